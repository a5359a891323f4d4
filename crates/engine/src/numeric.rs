//! Arithmetic with numpy's and pandas' exact semantics (quantile interpolation, pairwise and
//! compensated sums), so that values computed here round the way the reference's do.

/// numpy's pairwise summation of a contiguous float array (`np.add.reduce`), for float64 and
/// float32 alike: blocks of 128 summed in eight interleaved partial sums, halves beyond.
pub(crate) fn pairwise_sum<T>(a: &[T]) -> T
where
    T: Copy + Default + std::ops::Add<Output = T> + std::ops::AddAssign,
{
    const BLOCK: usize = 128;
    let n = a.len();
    if n < 8 {
        a.iter().fold(T::default(), |s, &x| s + x)
    } else if n <= BLOCK {
        let mut r = [T::default(); 8];
        r.copy_from_slice(&a[..8]);
        let whole = n - n % 8;
        for chunk in a[8..whole].chunks_exact(8) {
            r.iter_mut().zip(chunk).for_each(|(r, &x)| *r += x);
        }
        let mut sum = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        a[whole..].iter().for_each(|&x| sum += x);
        sum
    } else {
        let half = n / 2;
        let half = half - half % 8;
        pairwise_sum(&a[..half]) + pairwise_sum(&a[half..])
    }
}

/// Mean and population standard deviation ignoring NaN, as pandas' `Series.mean()` /
/// `Series.std(ddof=0)` compute them (what `np.mean` / `np.std` dispatch to on a Series):
/// NaN values count as 0 in the sums and not at all in the count. Both are NaN without values.
pub(crate) fn nan_mean_std(values: &[f64]) -> (f64, f64) {
    let count = values.iter().filter(|x| !x.is_nan()).count() as f64;
    let filled: Vec<f64> = values
        .iter()
        .map(|&x| if x.is_nan() { 0.0 } else { x })
        .collect();
    let mean = pairwise_sum(&filled) / count;
    let squares: Vec<f64> = values
        .iter()
        .map(|&x| {
            if x.is_nan() {
                0.0
            } else {
                let d = mean - x;
                d * d
            }
        })
        .collect();
    (mean, (pairwise_sum(&squares) / count).sqrt())
}

/// numpy's `_lerp`: `a + (b − a)·t`, computed from the upper end when `t ≥ 0.5`.
pub(crate) fn numpy_lerp(a: f64, b: f64, t: f64) -> f64 {
    let diff = b - a;
    if t >= 0.5 {
        b - diff * (1.0 - t)
    } else {
        a + diff * t
    }
}

/// numpy's default (`linear`) quantile of NaN-free values, in any order (`values` is
/// reordered by a selection, not sorted).
///
/// The virtual index is `(n − 1)·q`; at or beyond the last index numpy takes the last value
/// (through the same interpolation, so an infinite last value yields NaN as in numpy).
/// `None` for an empty slice.
pub(crate) fn numpy_quantile(values: &mut [f64], q: f64) -> Option<f64> {
    let n = values.len();
    if n == 0 {
        return None;
    }
    let virtual_index = (n - 1) as f64 * q;
    let (lower, gamma) = if virtual_index >= (n - 1) as f64 {
        // numpy marks these indices −1 (the last element) and derives gamma from that −1.
        (n - 1, virtual_index + 1.0)
    } else {
        let floor = virtual_index.floor();
        (floor as usize, virtual_index - floor)
    };
    let (_, &mut a, above) = values.select_nth_unstable_by(lower, f64::total_cmp);
    // The next value in sorted order is the smallest one above (or `a` at the end).
    let b = above.iter().copied().min_by(f64::total_cmp).unwrap_or(a);
    Some(numpy_lerp(a, b, gamma))
}

/// `np.nanpercentile(values, percentile)` (linear interpolation, NaN ignored); NaN when no
/// value is left. Reorders `values`.
pub(crate) fn nan_percentile(values: &mut Vec<f64>, percentile: f64) -> f64 {
    values.retain(|x| !x.is_nan());
    numpy_quantile(values, percentile / 100.0).unwrap_or(f64::NAN)
}

/// A compensated (Kahan) running sum that skips NaN, like pandas' grouped `sum()`.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct KahanSum {
    pub(crate) sum: f64,
    compensation: f64,
}

impl KahanSum {
    pub(crate) fn add(&mut self, x: f64) {
        if x.is_nan() {
            return;
        }
        let y = x - self.compensation;
        let t = self.sum + y;
        self.compensation = (t - self.sum) - y;
        if self.compensation.is_nan() {
            // An infinite term: keep the infinite sum rather than turning it into NaN.
            self.compensation = 0.0;
        }
        self.sum = t;
    }
}

/// The logistic function, without overflow for large |z|.
pub(crate) fn expit(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

/// `log(1 + exp(−z))`, stably.
pub(crate) fn log1p_exp_neg(z: f64) -> f64 {
    if z > 0.0 {
        (-z).exp().ln_1p()
    } else {
        -z + z.exp().ln_1p()
    }
}

/// A smooth objective: its value and gradient at a point, from one pass over the data.
pub(crate) trait SmoothObjective {
    fn evaluate(&self, w: &[f64]) -> (f64, Vec<f64>);
}

/// A [`SmoothObjective`] as argmin's cost and gradient. argmin asks for the two at the same
/// point separately; the last evaluation is kept so each point is evaluated once.
pub(crate) struct Cached<O> {
    pub(crate) objective: O,
    last: std::sync::Mutex<Option<Evaluation>>,
}

/// A point, the value there and the gradient there.
type Evaluation = (Vec<f64>, f64, Vec<f64>);

impl<O: SmoothObjective> Cached<O> {
    pub(crate) fn new(objective: O) -> Self {
        Cached {
            objective,
            last: std::sync::Mutex::new(None),
        }
    }

    fn get(&self, w: &[f64]) -> (f64, Vec<f64>) {
        let mut last = self.last.lock().expect("not poisoned");
        if let Some((param, loss, grad)) = last.as_ref()
            && param.as_slice() == w
        {
            return (*loss, grad.clone());
        }
        let (loss, grad) = self.objective.evaluate(w);
        *last = Some((w.to_vec(), loss, grad.clone()));
        (loss, grad)
    }
}

impl<O: SmoothObjective> argmin::core::CostFunction for Cached<O> {
    type Param = Vec<f64>;
    type Output = f64;

    fn cost(&self, w: &Self::Param) -> Result<f64, argmin::core::Error> {
        Ok(self.get(w).0)
    }
}

impl<O: SmoothObjective> argmin::core::Gradient for Cached<O> {
    type Param = Vec<f64>;
    type Gradient = Vec<f64>;

    fn gradient(&self, w: &Self::Param) -> Result<Vec<f64>, argmin::core::Error> {
        Ok(self.get(w).1)
    }
}
