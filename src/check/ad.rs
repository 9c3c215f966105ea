//! Derivatives by forward-mode automatic differentiation (num-dual) of the crate's own generic
//! formulas: [`Problem::loss_at`] and [`Problem::gradient_at`] evaluated on dual numbers, so
//! what is differentiated is the code that ships.

use nalgebra::{DMatrix, DVector};
use num_dual::{Dual2DVec64, DualDVec64};

use crate::{Problem, Result};

/// The loss, its gradient and its Hessian at one point, by AD.
#[derive(Debug, Clone, PartialEq)]
pub struct AdDerivatives {
    /// The per-row loss.
    pub loss: f64,
    /// Its gradient, length N.
    pub gradient: Vec<f64>,
    /// Its Hessian, N x N.
    pub hessian: DMatrix<f64>,
}

/// The loss of row `row` at `z` and its gradient by first-order dual numbers
/// ([`DualDVec64`], one derivative direction per class).
///
/// # Errors
/// [`crate::Error::RowOutOfRange`]; [`crate::Error::PointLength`] when `z` is not of length N.
pub fn ad_gradient(problem: &Problem, row: usize, z: &[f64]) -> Result<(f64, Vec<f64>)> {
    let x = DVector::from_column_slice(z);
    let (loss, gradient) = num_dual::gradient(
        |v: DVector<DualDVec64>| problem.loss_at(row, v.as_slice()),
        &x,
    )?;
    Ok((loss, gradient.as_slice().to_vec()))
}

/// The loss of row `row` at `z`, its gradient and its Hessian by second-order dual numbers
/// ([`Dual2DVec64`]).
///
/// # Errors
/// As [`ad_gradient`].
pub fn ad_hessian(problem: &Problem, row: usize, z: &[f64]) -> Result<AdDerivatives> {
    let x = DVector::from_column_slice(z);
    let (loss, gradient, hessian) = num_dual::hessian(
        |v: DVector<Dual2DVec64>| problem.loss_at(row, v.as_slice()),
        &x,
    )?;
    Ok(AdDerivatives {
        loss,
        gradient: gradient.as_slice().to_vec(),
        hessian,
    })
}

/// The Jacobian of the closed-form gradient [`Problem::gradient_at`] at `z` by first-order dual
/// numbers: a second, independent route to the Hessian (`J[(j, k)] = d g_j / d z_k`).
///
/// # Errors
/// As [`ad_gradient`].
pub fn ad_jacobian_of_gradient(problem: &Problem, row: usize, z: &[f64]) -> Result<DMatrix<f64>> {
    let x = DVector::from_column_slice(z);
    let (_, jacobian) = num_dual::jacobian(
        |v: DVector<DualDVec64>| {
            problem
                .gradient_at(row, v.as_slice())
                .map(DVector::from_vec)
        },
        &x,
    )?;
    Ok(jacobian)
}
