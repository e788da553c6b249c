/**
 * The WGSL helper functions kernels call (exact float32 math, NaN-aware min/max, integer
 * conversions as JS does them, rounding to half): fixed text, each emitted once per shader
 * that uses it, after the helpers it calls.
 */
/** Helper functions a rendering may call; each is emitted once per shader that uses it. */
export type WgslHelper =
  | 'k_inf' | 'k_nan' | 'k_isnan' | 'k_isinf' | 'k_ldexp' | 'k_exp' | 'k_expm1' | 'k_logk' | 'k_log' | 'k_log1p'
  | 'k_trig' | 'k_sin' | 'k_cos' | 'k_tan' | 'k_tanh' | 'k_erf' | 'k_erfc' | 'k_sigmoid' | 'k_pow_f32' | 'k_pow_i32'
  | 'k_mod_f32' | 'k_mod_i32' | 'k_max_f32' | 'k_min_f32' | 'k_f32_to_i32' | 'k_f32_to_bool' | 'k_mulhi' | 'k_reduce_big'
  | 'k_f16';

/** Registers a helper for the shader being built and returns its name. */
export type UseHelper = (helper: WgslHelper) => string;

/**
 * Helper functions: fixed text, with the helpers each one calls. Infinity and NaN are built
 * from a `var`, because a constant expression that evaluates to either is a WGSL
 * shader-creation error.
 */
const HELPERS: { [H in WgslHelper]: { deps: WgslHelper[]; code: string } } = {
  // x rounded to the nearest half (ties to even), as an f32: normal halves keep 10 mantissa
  // bits (a carry may bump the exponent, up to 65536, which is Inf as a half); below 2^-14
  // the quantum is 2^-24, and WGSL's round() is ties-to-even. NaN and ±Inf pass through.
  k_f16: { deps: [], code: `fn k_f16(x: f32) -> f32 {
  let b = bitcast<u32>(x);
  let e = (b >> 23u) & 0xffu;
  if (e == 0xffu) {
    return x;
  }
  if (e < 113u) {
    return round(x * 16777216.0) * 5.9604644775390625e-8;
  }
  let rest = b & 0x1fffu;
  let up = select(0u, 1u, rest > 0x1000u || (rest == 0x1000u && (b & 0x2000u) != 0u));
  let r = bitcast<f32>(((b >> 13u) + up) << 13u);
  return select(r, bitcast<f32>((b & 0x80000000u) | 0x7f800000u), abs(r) >= 65520.0);
}` },
  k_inf: { deps: [], code: `fn k_inf() -> f32 {
  var bits = 0x7f800000u;
  return bitcast<f32>(bits);
}` },
  k_nan: { deps: [], code: `fn k_nan() -> f32 {
  var bits = 0x7fc00000u;
  return bitcast<f32>(bits);
}` },
  k_isnan: { deps: [], code: `fn k_isnan(x: f32) -> bool {
  return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u;
}` },
  k_isinf: { deps: [], code: `fn k_isinf(x: f32) -> bool {
  return (bitcast<u32>(x) & 0x7fffffffu) == 0x7f800000u;
}` },
  // ldexp in two steps, so 2^k below the normal range still reaches the subnormals.
  k_ldexp: { deps: [], code: `fn k_ldexp(x: f32, k: i32) -> f32 {
  if (k < -120) {
    return ldexp(ldexp(x, k + 64), -64);
  }
  return ldexp(x, k);
}` },
  // e^r - 1 for |r| <= ln2/2 is r + r^2 P(r); k = round(x log2 e) and ln2 split in two
  // (the high part has 12 trailing zero bits, so k * hi is exact).
  k_expm1: { deps: ['k_isnan', 'k_ldexp'], code: `fn k_expm1_poly(r: f32) -> f32 {
  let r2 = r * r;
  let p = 0.5000000013463886 + r * 0.16666666681621095 + r2 * (0.041666464944505696 + r * 0.008333310927615311 + r2 * (0.0013933647862928863 + r * 0.00019890988455544567));
  return r + r2 * p;
}
fn k_expm1(x: f32) -> f32 {
  if (abs(x) < 2.9802322387695312e-8) {
    return x;
  }
  if (k_isnan(x)) {
    return x;
  }
  if (x < -18.0) {
    return -1.0;
  }
  let xc = min(x, 89.0);
  let k = round(xc * 1.4426950408889634);
  let r = (xc - k * 0.693145751953125) - k * 1.4286067653301870e-6;
  let p = k_expm1_poly(r);
  let ki = i32(k);
  if (ki > 1) {
    return k_ldexp(1.0 + p, ki) - 1.0;
  }
  let s = ldexp(1.0, ki);
  return s * p + (s - 1.0);
}` },
  // The special cases are selected at the end rather than branched on (a vector of
  // invocations on lavapipe runs every side of a branch some of them take anyway); the
  // argument is clamped so that the main path stays finite for them.
  k_exp: { deps: ['k_expm1', 'k_inf'], code: `fn k_exp(x: f32) -> f32 {
  let xc = clamp(x, -104.0, 88.72283935546875);
  let k = round(xc * 1.4426950408889634);
  let r = (xc - k * 0.693145751953125) - k * 1.4286067653301870e-6;
  let y = k_ldexp(1.0 + k_expm1_poly(r), i32(k));
  return select(select(select(y, 0.0, x < -104.0), k_inf(), x > 88.72283935546875), x, k_isnan(x));
}` },
  // musl's logf/log1pf: log(1 + f) for f in [sqrt(1/2) - 1, sqrt(2) - 1) as 2 atanh(f / (2 + f)),
  // plus dk ln2 (ln2 in two parts) and a correction c for a rounded argument.
  k_logk: { deps: [], code: `fn k_log_core(f: f32, dk: f32, c: f32) -> f32 {
  let s = f / (2.0 + f);
  let z = s * s;
  let w = z * z;
  let r = z * (0.66666662693 + w * 0.28498786688) + w * (0.40000972152 + w * 0.24279078841);
  let hfsq = 0.5 * f * f;
  return s * (hfsq + r) + (dk * 9.0580006145e-06 + c) - hfsq + f + dk * 6.9313812256e-01;
}
fn k_log_split(u0: f32) -> vec2<f32> {
  var u = u0;
  var k = 0;
  if (u < 1.1754943508222875e-38) {
    u = u * 8388608.0;
    k = -23;
  }
  var ix = bitcast<u32>(u) + (0x3f800000u - 0x3f3504f3u);
  k = k + i32(ix >> 23u) - 127;
  ix = (ix & 0x007fffffu) + 0x3f3504f3u;
  return vec2<f32>(bitcast<f32>(ix) - 1.0, f32(k));
}
fn k_logk(u0: f32, c: f32) -> f32 {
  let s = k_log_split(u0);
  return k_log_core(s.x, s.y, c);
}` },
  k_log: { deps: ['k_logk', 'k_inf', 'k_nan'], code: `fn k_log(x: f32) -> f32 {
  if (x > 0.0 && x <= 3.4028234663852886e38) {
    return k_logk(x, 0.0);
  }
  if (x == 0.0) {
    return -k_inf();
  }
  if (x > 0.0) {
    return x;
  }
  return k_nan();
}` },
  // Near 0 the argument itself is f (1 + x would lose its low bits); beyond, 1 + x is
  // reduced and c = (x - (u - 1)) / u restores what rounding u lost where the compiler keeps it.
  k_log1p: { deps: ['k_logk', 'k_inf', 'k_nan'], code: `fn k_log1p(x: f32) -> f32 {
  if (abs(x) < 5.9604644775390625e-8) {
    return x;
  }
  if (x >= -0.29289321881 && x < 0.41421356237) {
    return k_log_core(x, 0.0, 0.0);
  }
  if (x > -1.0 && x <= 3.4028234663852886e38) {
    let u = 1.0 + x;
    return k_logk(u, select(x - (u - 1.0), 1.0 - (u - x), u >= 2.0) / u);
  }
  if (x == -1.0) {
    return -k_inf();
  }
  if (x > 0.0) {
    return x;
  }
  return k_nan();
}` },
  // Cody-Waite reduction by pi/2 in three parts (exact products for |k| < 2^12), then the
  // sin and cos polynomials of f32-math.ts on |r| <= pi/4; k is the quadrant. Larger
  // arguments take the exact reduction below. k_sin_quadrant is sin(x + shift pi/2).
  k_trig: { deps: ['k_reduce_big'], code: `fn k_sin_poly(r: f32, z: f32) -> f32 {
  return r + r * z * (-0.16666666663852378 + z * 0.008333331873578017 + z * z * (-0.00019840086123831875 + z * 2.7249846516055084e-6));
}
fn k_cos_poly(z: f32) -> f32 {
  let z2 = z * z;
  return 1.0 - 0.5 * z + z2 * (0.04166666666431877 + z * -0.0013888887671071894 + z2 * (2.480059986675055e-5 + z * -2.730089302856455e-7));
}
fn k_reduce(x: f32) -> vec2<f32> {
  if (!(abs(x) < 4096.0)) {
    return k_reduce_big(x);
  }
  let k = round(x * 0.6366197723675814);
  let r = ((x - k * 1.5703125) - k * 4.837512969970703125e-4) - k * 7.549789954891886e-8;
  return vec2<f32>(r, k);
}
fn k_sin_quadrant(x: f32, shift: i32) -> f32 {
  let rk = k_reduce(x);
  let z = rk.x * rk.x;
  let q = u32((i32(rk.y) + shift) & 3);
  let v = select(k_sin_poly(rk.x, z), k_cos_poly(z), (q & 1u) != 0u);
  return select(v, -v, (q & 2u) != 0u);
}` },
  // Payne-Hanek: x = m 2^(e-158) with a 32-bit m, times 192 bits of 2/pi as a 224-bit
  // integer product; the 64 bits from weight 2^1 down to 2^-62 hold x 2/pi mod 4. The
  // quadrant is the nearest integer, the rest a signed fraction of pi/2. Inf and NaN give NaN.
  k_reduce_big: { deps: ['k_mulhi', 'k_nan'], code: `fn k_reduce_big(x: f32) -> vec2<f32> {
  let bits = bitcast<u32>(x);
  let e = (bits >> 23u) & 0xffu;
  if (e == 0xffu) {
    return vec2<f32>(k_nan(), 0.0);
  }
  let two_over_pi = array<u32, 6>(0xa2f9836eu, 0x4e441529u, 0xfc2757d1u, 0xf534ddc0u, 0xdb629599u, 0x3c439041u);
  let m = ((bits & 0x7fffffu) | 0x800000u) << 8u;
  var p: array<u32, 7>;
  var carry = 0u;
  for (var i = 0u; i < 6u; i++) {
    let w = two_over_pi[5u - i];
    let lo = m * w;
    let s = lo + carry;
    carry = k_mulhi(m, w) + select(0u, 1u, s < lo);
    p[i] = s;
  }
  p[6] = carry;
  let base = 288u - e;
  let wi = base >> 5u;
  let sh = base & 31u;
  var lo = p[wi];
  var hi = p[wi + 1u];
  if (sh != 0u) {
    lo = (lo >> sh) | (hi << (32u - sh));
    hi = (hi >> sh) | (p[wi + 2u] << (32u - sh));
  }
  let frac = (hi << 2u) | (lo >> 30u);
  let q = ((hi >> 30u) + (frac >> 31u)) & 3u;
  let f = f32(bitcast<i32>(frac)) * 2.3283064365386963e-10 + f32(lo << 2u) * 5.421010862427522e-20;
  let r = f * 1.5707963267948966;
  let neg = (bits >> 31u) != 0u;
  return vec2<f32>(select(r, -r, neg), select(f32(q), -f32(q), neg));
}` },
  // High word of a 32 x 32-bit product from 16-bit halves: every partial product and sum fits in u32.
  k_mulhi: { deps: [], code: `fn k_mulhi(a: u32, b: u32) -> u32 {
  let al = a & 0xffffu;
  let ah = a >> 16u;
  let bl = b & 0xffffu;
  let bh = b >> 16u;
  let ll = al * bl;
  let lh = al * bh;
  let hl = ah * bl;
  let mid = (ll >> 16u) + (lh & 0xffffu) + (hl & 0xffffu);
  return ah * bh + (lh >> 16u) + (hl >> 16u) + (mid >> 16u);
}` },
  k_sin: { deps: ['k_trig'], code: `fn k_sin(x: f32) -> f32 {
  return select(k_sin_quadrant(x, 0), x, abs(x) < 0.000244140625);
}` },
  // cos x = sin(x + pi/2): one quadrant further.
  k_cos: { deps: ['k_trig'], code: `fn k_cos(x: f32) -> f32 {
  return select(k_sin_quadrant(x, 1), 1.0, abs(x) < 0.000244140625);
}` },
  k_tan: { deps: ['k_trig'], code: `fn k_tan(x: f32) -> f32 {
  if (abs(x) < 0.000244140625) {
    return x;
  }
  let rk = k_reduce(x);
  let z = rk.x * rk.x;
  let s = k_sin_poly(rk.x, z);
  let c = k_cos_poly(z);
  return select(s / c, -c / s, (i32(rk.y) & 1) != 0);
}` },
  // tanh |x| = -e / (e + 2) with e = expm1(-2|x|) in (-1, 0]: no cancellation, no overflow.
  k_tanh: { deps: ['k_expm1'], code: `fn k_tanh(x: f32) -> f32 {
  let a = abs(x);
  if (a < 0.0001220703125) {
    return x;
  }
  if (a > 9.1) {
    return select(1.0, -1.0, x < 0.0);
  }
  let e = k_expm1(-2.0 * a);
  let t = -e / (e + 2.0);
  return select(t, -t, x < 0.0);
}` },
  // Polynomials suit the GPU better than the CPU's node table (f32-math.ts): x E(x^2) below
  // 1, one polynomial in |x| - 2.46 up to 3.92 (above which erf rounds to 1); within a few
  // float32 ulp of the CPU's erf, as the cross-device tests allow.
  k_erf: { deps: ['k_isnan'], code: `fn k_erf(x: f32) -> f32 {
  let a = abs(x);
  if (a < 1.0) {
    let t = x * x;
    let t2 = t * t;
    let e = 1.1283791670615435 + t * -0.3761263846802871 + t2 * (0.11283782495236845 + t * -0.026865430727670243)
      + t2 * t2 * (0.005221031807858023 + t * -0.0008484080405535107 + t2 * (0.00011265959025606609 + t * -9.667044571486996e-6));
    return x * e;
  }
  if (a < 3.92) {
    let v = a - 2.46;
    let v2 = v * v;
    let v4 = v2 * v2;
    let v8 = v4 * v4;
    let q0 = 0.9994966462779926 + v * 0.002656308864925012 + v2 * (-0.0065345136228438655 + v * 0.009831176672784579);
    let q1 = -0.00991425163944748 + v * 0.00680618827156621 + v2 * (-0.0029369172683780583 + v * 0.0004440051508090407);
    let q2 = 0.0003554299592113387 + v * -0.0002812044731439954 + v2 * (7.629576361599608e-5 + v * 1.2542069073496535e-5);
    let q3 = -1.75913604428809e-5 + v * 4.435015127362917e-6 + v2 * (1.1692860782064671e-6 + v * -7.440508004323098e-7);
    let q4 = -8.77801198666478e-9 + v * 4.1618436937852914e-8;
    let e = q0 + v4 * q1 + v8 * (q2 + v4 * q3 + v8 * q4);
    return select(e, -e, x < 0.0);
  }
  if (k_isnan(x)) {
    return x;
  }
  return select(1.0, -1.0, x < 0.0);
}` },
  // 1 - erf(x) while that keeps the bits (|x| < 0.5: erfc > 0.47); beyond, Numerical Recipes'
  // erfcc, t e^(-x^2 + P(t)) with t = 1 / (1 + |x|/2), whose fractional error is below 1.2e-7.
  // x^2 is split exactly (hi keeps 12 significant bits, so hi^2 is exact): a rounded x^2
  // would put its error, up to x^2 2^-24, into the exponent and so into every result bit.
  // Beyond 10.5 erfc is below 2^-150 and e^(-hi^2) is 0, which also keeps +-Inf finite inside.
  // Measured against the CPU's erfc over 2^20 points in [-4, 11) on lavapipe: at most 6 ulp
  // (the polynomial's float32 rounding), 1 ulp for x < -1.
  k_erfc: { deps: ['k_erf', 'k_exp', 'k_isnan'], code: `fn k_erfc(x: f32) -> f32 {
  let a = min(abs(x), 10.5);
  let t = 1.0 / (1.0 + 0.5 * a);
  let p = -1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807
    + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  let hi = bitcast<f32>(bitcast<u32>(a) & 0xfffff000u);
  let tail = k_exp(-hi * hi) * (t * k_exp(p - (a - hi) * (a + hi)));
  let r = select(select(tail, 2.0 - tail, x < 0.0), 1.0 - k_erf(x), abs(x) < 0.5);
  return select(r, x, k_isnan(x));
}` },
  // e = e^-|x| never overflows; x < 0 gives e / (1 + e) without the cancellation of 1 - s.
  k_sigmoid: { deps: ['k_exp'], code: `fn k_sigmoid(x: f32) -> f32 {
  let e = k_exp(-abs(x));
  let s = 1.0 / (1.0 + e);
  return select(e * s, s, x >= 0.0);
}` },
  // powC: 1^y = 1 and (-1)^(+-Inf) = 1 even for NaN y; otherwise Math.pow's special cases.
  // |x| = 2^k m and y log2|x| = yh k + (yl k + y log2 m), where yh keeps y's top 12 bits, so
  // yh k and yl k are exact products and its integer part is split off before rounding:
  // the error grows with |y| (a few ulp for |y| < 8), not with |y log2 x|.
  k_pow_f32: { deps: ['k_isnan', 'k_isinf', 'k_inf', 'k_nan', 'k_logk', 'k_expm1', 'k_ldexp'], code: `fn k_pow_f32(a: f32, b: f32) -> f32 {
  if (b == 0.0 || a == 1.0) {
    return 1.0;
  }
  if (k_isnan(a) || k_isnan(b)) {
    return k_nan();
  }
  let ax = abs(a);
  let whole = floor(b) == b;
  let odd = whole && abs(b) < 16777216.0 && (i32(b) & 1) != 0;
  let neg = (bitcast<u32>(a) >> 31u) != 0u;
  if (k_isinf(b)) {
    if (ax == 1.0) {
      return 1.0;
    }
    return select(0.0, k_inf(), (ax > 1.0) == (b > 0.0));
  }
  if (ax == 0.0 || k_isinf(a)) {
    let r = select(0.0, k_inf(), (ax == 0.0) == (b < 0.0));
    return select(r, -r, neg && odd);
  }
  if (neg && !whole) {
    return k_nan();
  }
  if (abs(b) > 1e30) {
    return select(0.0, k_inf(), (ax > 1.0) == (b > 0.0));
  }
  let split = k_log_split(ax);
  let k = split.y;
  let l = k_log_core(split.x, 0.0, 0.0) * 1.4426950408889634;
  let bh = bitcast<f32>(bitcast<u32>(b) & 0xfffff000u);
  let bl = b - bh;
  let y1 = bh * k;
  let n1 = floor(y1);
  let t = (y1 - n1) + (bl * k + b * l);
  let n2 = round(t);
  let e = n1 + n2;
  var r = 0.0;
  if (e > 128.0) {
    r = k_inf();
  } else if (e >= -160.0) {
    r = k_ldexp(1.0 + k_expm1_poly((t - n2) * 0.6931471805599453), i32(e));
  }
  return select(r, -r, neg && odd);
}` },
  // powInt32: repeated wrapping multiplication; negative exponents truncate 1 / a^|b| toward zero.
  k_pow_i32: { deps: [], code: `fn k_pow_i32(a: i32, b: i32) -> i32 {
  if (b < 0) {
    if (a == 1) {
      return 1;
    }
    if (a == -1) {
      return select(1, -1, (b & 1) != 0);
    }
    return 0;
  }
  var r = 1i;
  var x = a;
  var e = u32(b);
  while (e != 0u) {
    if ((e & 1u) != 0u) {
      r = r * x;
    }
    x = x * x;
    e = e >> 1u;
  }
  return r;
}` },
  // JS's a % b is exact, so fmod works on the integer mantissas (musl's fmodf: shift and
  // subtract once per binary digit of the quotient), then takes the divisor's sign, as
  // Python and PyTorch do, with one rounding like the CPU's. k_fmod_parts gives a nonzero
  // magnitude's exponent and its mantissa with the leading bit (subnormals normalized).
  k_mod_f32: { deps: ['k_isnan', 'k_isinf', 'k_nan'], code: `fn k_fmod_parts(u: u32) -> vec2<i32> {
  var e = i32(u >> 23u);
  var m = u & 0x7fffffu;
  if (e == 0) {
    e = 1;
    while ((m & 0x800000u) == 0u) {
      m = m << 1u;
      e = e - 1;
    }
  } else {
    m = m | 0x800000u;
  }
  return vec2<i32>(e, i32(m));
}
fn k_fmod(a: f32, b: f32) -> f32 {
  let ua = bitcast<u32>(a) & 0x7fffffffu;
  let ub = bitcast<u32>(b) & 0x7fffffffu;
  let sign = bitcast<u32>(a) & 0x80000000u;
  if (ua < ub) {
    return a;
  }
  let pa = k_fmod_parts(ua);
  let pb = k_fmod_parts(ub);
  var ea = pa.x;
  let eb = pb.x;
  var ma = u32(pa.y);
  let mb = u32(pb.y);
  for (; ea > eb; ea = ea - 1) {
    if (ma >= mb) {
      ma = ma - mb;
      if (ma == 0u) {
        return bitcast<f32>(sign);
      }
    }
    ma = ma << 1u;
  }
  if (ma >= mb) {
    ma = ma - mb;
    if (ma == 0u) {
      return bitcast<f32>(sign);
    }
  }
  while ((ma & 0x800000u) == 0u) {
    ma = ma << 1u;
    ea = ea - 1;
  }
  if (ea > 0) {
    return bitcast<f32>(sign | (u32(ea) << 23u) | (ma & 0x7fffffu));
  }
  return bitcast<f32>(sign | (ma >> u32(1 - ea)));
}
fn k_mod_f32(a: f32, b: f32) -> f32 {
  if (k_isnan(a) || k_isnan(b) || k_isinf(a) || b == 0.0) {
    return k_nan();
  }
  let r = select(k_fmod(a, b), a, k_isinf(b));
  if (r != 0.0 && ((r < 0.0) != (b < 0.0))) {
    return r + b;
  }
  return r;
}` },
  // Division by zero gives 0 (JS: NaN | 0), and so does x % -1 (WGSL leaves i32::MIN % -1 open).
  k_mod_i32: { deps: [], code: `fn k_mod_i32(a: i32, b: i32) -> i32 {
  let d = select(b, 1i, b == 0i || b == -1i);
  let r = a % d;
  if (r != 0i && ((r < 0i) != (d < 0i))) {
    return r + d;
  }
  return r;
}` },
  // a if it is NaN, else b if it is NaN, else the built-in (selects: see k_exp). The built-ins
  // leave the sign of max(-0, 0) to the implementation (lavapipe gave -0): equal operands
  // combine their bits, so +0 wins max and -0 wins min, as Math.max and Math.min do.
  k_max_f32: { deps: ['k_isnan'], code: `fn k_max_f32(a: f32, b: f32) -> f32 {
  let m = select(max(a, b), bitcast<f32>(bitcast<u32>(a) & bitcast<u32>(b)), a == b);
  return select(select(m, b, k_isnan(b)), a, k_isnan(a));
}` },
  k_min_f32: { deps: ['k_isnan'], code: `fn k_min_f32(a: f32, b: f32) -> f32 {
  let m = select(min(a, b), bitcast<f32>(bitcast<u32>(a) | bitcast<u32>(b)), a == b);
  return select(select(m, b, k_isnan(b)), a, k_isnan(a));
}` },
  // ToInt32 of a float32: |x| < 2^31 truncates; larger values are m 2^(e-150) with a 24-bit
  // m, wrapped modulo 2^32 like JS; Inf and NaN give 0.
  k_f32_to_i32: { deps: [], code: `fn k_f32_to_i32(x: f32) -> i32 {
  let bits = bitcast<u32>(x);
  let e = (bits >> 23u) & 0xffu;
  if (e < 158u) {
    return i32(trunc(x));
  }
  if (e >= 182u) {
    return 0i;
  }
  let w = ((bits & 0x7fffffu) | 0x800000u) << (e - 150u);
  return bitcast<i32>(select(w, 0u - w, (bits >> 31u) != 0u));
}` },
  // NaN is truthy in JS (NaN !== 0): test the bits, not an ordered comparison.
  k_f32_to_bool: { deps: [], code: `fn k_f32_to_bool(x: f32) -> u32 {
  return select(0u, 1u, (bitcast<u32>(x) & 0x7fffffffu) != 0u);
}` },
};

/** Collects the helpers one shader uses and emits each once, dependencies first. */
export class HelperSet {
  private readonly used = new Set<WgslHelper>();
  /** Records `helper` (and what it calls) and returns its name. */
  readonly use: UseHelper = (helper) => {
    if (!this.used.has(helper)) {
      for (const dep of HELPERS[helper].deps) this.use(dep);
      this.used.add(helper);
    }
    return helper;
  };
  /** The helper functions' source, in an order where every function follows its callees. */
  code(): string[] {
    return [...this.used].map((h) => HELPERS[h].code);
  }
}
