/**
 * erf on float64x2 lanes holding float32 inputs. The JavaScript engine's erf reads a table
 * of local cubics, which a Wasm module cannot keep (its memory belongs to the tensors), so
 * this one uses two polynomials chosen per lane, both interpolants at Chebyshev nodes fitted
 * with mpmath:
 * - |x| < 1.5: x P(x^2), P of degree 9 (4.9e-11 relative);
 * - 1.5 <= |x| < 3.921875: a polynomial of degree 14 in x (3.3e-10 absolute, 0.006 ulp of
 *   the float32 results there, all above 0.96);
 * - from 3.9192059 (the first float32 with erfc below 2^-25) the result is exactly +-1.
 * (1 - e^(-x^2) erfcx(x) is as accurate for the far part, but with the exp kernel it costs
 * about twice the instructions; the far polynomial also runs only when some lane needs it.)
 * Both parts are built on |x| with x's sign put back, so erf(-x) = -erf(x) and -0 stays.
 *
 * erfc is 1 - erf below 0.5 (where erfc > 0.47, so erf's absolute error stays relative), and
 * above e^(-x^2) erfcx(x), so its small values keep their relative accuracy down to the
 * float32 subnormals: erfcx from two interpolants, in x on [0.5, 2] (degree 12, 3.5e-11
 * relative) and in 1/x on [2, 10.0625] (x erfcx(x), degree 10, 2.9e-11), times the exp
 * kernel (5e-10); from 10.0541954 on, erfc is below 2^-150 and rounds to 0.
 */
import { expCore } from './math-exp.js';
import { f64, SIGN, type LaneWriter, type Lanes } from './math-lanes.js';

/** erf(x)/x on x^2 in [0, 2.25], in t = (x^2 - 1.125) / 1.125, constant term first. */
const NEAR = [
  0.8168361748183596, -0.22525254703848094, 0.06590879210410709, -0.016287513526907927, 0.003385077908954563,
  -0.0006015941787704207, 9.299079633424638e-05, -1.2704365193323326e-05, 1.5967103906355505e-06,
  -1.7561009819917896e-07,
];

/** erf(x) on [1.5, 3.921875], in t = (x - 2.7109375) / 1.2109375, constant term first. */
const FAR = [
  0.9998738441311906, 0.0008787514825184067, -0.002884752009344634, 0.005883918387867233, -0.008247644707386054,
  0.008240432163170539, -0.005792613051158774, 0.0025619850523833005, -0.0002813984467940837,
  -0.0005397210726324795, 0.00042740645299265946, -0.0001065440391973285, -3.8200348628702865e-05,
  2.859041769559184e-05, -4.083483118276276e-06,
];

/** The end of FAR's interval: arguments are clamped to it (NaN passes Wasm's min). */
const CLAMP = 3.921875;
/** The first float32 whose erf rounds to 1: erfc(3.9192059) < 2^-25 < erfc of the float32 below. */
const ONE_FROM = 3.919205904006958;

/** erfcx(x) = e^(x^2) erfc(x) on [0.5, 2], in t = (x - 1.25) / 0.75, constant term first. */
const ERFCX_NEAR = [
  0.3678229164523611, -0.15661640682980965, 0.060072508935389186, -0.0211858385261947, 0.006964534099131075,
  -0.0021550808180728393, 0.0006323702213140718, -0.00017707948364364227, 4.7474389088126484e-05,
  -1.2057025670519733e-05, 3.004783925670246e-06, -8.712462294792363e-07, 2.0136797525897841e-07,
];

/** x erfcx(x) on x in [2, 10.0625], in t = (1/x - U_MID) / U_HALF, constant term first. */
const ERFCX_FAR = [
  0.5416749915739838, -0.026945123472216788, -0.005447990294698422, 0.0016731589438817992,
  -0.00013088875205973863, -5.1306132200669784e-05, 2.2095093901630013e-05, -3.437328519497516e-06,
  -4.989568773773531e-07, 4.5579457423264136e-07, -1.0385465637553346e-07,
];
const U_MID = 0.2996894409937888;
const U_HALF = 0.20031055900621117;

/** The first float32 whose erfc rounds to 0 (erfc(10.0541954) < 2^-150). */
const ZERO_FROM = 10.054195404052734;

/**
 * sum c[i] t^i by Estrin's scheme: pairs c[2j] + c[2j+1] t, then pairs of those in t^2, and so
 * on. Its dependency chain is log2 of Horner's, which matters here: the functions are latency-bound.
 */
function estrin(w: LaneWriter, t: Lanes, coefficients: readonly number[]): Lanes {
  let terms = coefficients.map(f64);
  let power = t;
  while (terms.length > 1) {
    const next: Lanes[] = [];
    for (let i = 0; i < terms.length; i += 2) {
      next.push(i + 1 < terms.length ? w.add(terms[i]!, w.mul(terms[i + 1]!, power)) : terms[i]!);
    }
    terms = next;
    if (terms.length > 1) power = w.mul(power, power);
  }
  return terms[0]!;
}

/** The error function. */
export function erf(w: LaneWriter, x: Lanes): Lanes {
  const a = w.min(w.abs(x), f64(CLAMP));
  const z = w.mul(a, a); // exact: a has 24 significant bits
  const near = w.mul(a, estrin(w, w.mul(w.sub(z, f64(1.125)), f64(1 / 1.125)), NEAR));
  // The far polynomial runs only when some lane needs it: gelu's arguments x/sqrt(2), x standard
  // normal, lie below 1.5 in 97% of lanes, so three calls in four (eight lanes each) skip it.
  // The result of a lane does not depend on whether the branch ran.
  const magnitude = w.variable();
  w.assign(magnitude, near);
  const beyond = w.ge(a, f64(1.5));
  w.anyTrue(beyond).open('if');
  const far = estrin(w, w.mul(w.sub(a, f64(2.7109375)), f64(1 / 1.2109375)), FAR);
  w.assign(magnitude, w.select(beyond, w.select(w.ge(a, f64(ONE_FROM)), f64(1), far), magnitude));
  w.code.end();
  return w.or(magnitude, w.and(x, SIGN));
}

/** The complementary error function 1 - erf(x), without the cancellation for large x. */
export function erfc(w: LaneWriter, x: Lanes): Lanes {
  const a = w.min(x, f64(ZERO_FROM)); // keeps NaN; beyond ZERO_FROM the result is 0 anyway
  const near = estrin(w, w.mul(w.sub(a, f64(1.25)), f64(1 / 0.75)), ERFCX_NEAR);
  const u = w.div(f64(1), a);
  const far = w.mul(estrin(w, w.mul(w.sub(u, f64(U_MID)), f64(1 / U_HALF)), ERFCX_FAR), u);
  const tail = w.mul(expCore(w, w.xor(w.mul(a, a), SIGN)), w.select(w.lt(a, f64(2)), near, far));
  const small = w.sub(f64(1), erf(w, x));
  return w.select(w.lt(x, f64(0.5)), small, w.select(w.ge(x, f64(ZERO_FROM)), f64(0), tail));
}
