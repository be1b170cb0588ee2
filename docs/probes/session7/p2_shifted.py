# How much of the disorder-decided set is a systematic (mean) shift of the phase boundaries?
from common import *
def shifted(mu, t, a, b):
    s = np.sign(mu)
    m = [2 - a - mu, -2 + a - mu, -2*t - mu + b*s, 2*t - mu + b*s]
    sg = [np.sign(v) for v in m]
    return np.rint(-(sg[0] + sg[1] - sg[2] - sg[3]) / 2).astype(int)
for size, count in [(int(a.split("=")[0]), int(a.split("=")[1])) for a in sys.argv[1:]]:
    x, y, g = fresh(size, count)
    mu, t = x[..., 0].mean((1, 2)), x[..., 1].mean((1, 2))
    assert np.all(shifted(mu, t, 0, 0) == clean_formula(x))
    best = max(((np.mean(shifted(mu, t, a, b) == y), a, b) for a in np.arange(-0.2, 0.41, 0.02) for b in np.arange(-0.2, 0.41, 0.02)))
    print(size, "best a,b", best[1:], end=" ")
    report(f"N={size} shifted diagram", shifted(mu, t, best[1], best[2]), y, x)
