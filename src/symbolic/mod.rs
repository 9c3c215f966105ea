//! Exact symbolic checks: rational functions over Q in the symbols of a derivation
//! (`eps`, `n`, `N`, `alpha`, `beta`, ...), a decision procedure for identities, certified
//! signs on a domain, and the checker of the derivations in `proofs/`.

mod domain;
mod expr;
mod poly;
mod ratfn;

pub use domain::{Bound, Domain, Kind, Sign, Symbol};
pub use expr::Expr;
pub use poly::Poly;
pub use ratfn::RatFn;

mod decide;
mod proof;

pub use decide::{Counterexample, End, Interval, Rel, identity, range, solve_linear};
pub use proof::{Checked, DocKind, Document, Item, Outcome, ParseError, Scope, Verdict, check};
mod render;

pub use render::{check_tree, docs};
