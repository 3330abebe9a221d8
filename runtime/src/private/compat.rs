//! C4: does a foreign-key column's type fit the column it references?
//!
//! A foreign-key column of type `F` may reference a column of type `R` of
//! table `X` when `F` is `R`, `Option<R>`, or — when `R` is `X`'s primary key —
//! `Id<X>` or `Option<Id<X>>`. Type aliases are resolved by rustc first.
//!
//! The derive emits, for each column pair, `(&&&&&Probe::<F, R, X>::new()).check()`
//! (or `Probe::<F, _, X>::of(&x.column)` for a column named by field).
//! Method resolution tries the impls below from the most references to the
//! fewest (autoref specialisation): the first whose types unify wins. The last
//! level is a trait the derive generates beside the call, whose
//! `on_unimplemented` message names both columns and both types; it is only
//! reached when no rule above holds.

use std::marker::PhantomData;

use crate::Id;
use crate::Table;

use super::reference::Unknown;

/// A foreign-key column type `F`, the referenced column type `R`, and the
/// referenced table `X`, as a value to resolve `check` on.
pub struct Probe<F, R, X>(PhantomData<Types<F, R, X>>);

/// The three types of a [`Probe`], as a variance-neutral marker.
type Types<F, R, X> = fn() -> (F, R, X);

impl<F, R, X> Probe<F, R, X> {
    /// The probe.
    pub const fn new() -> Self {
        Probe(PhantomData)
    }

    /// The probe of a referenced column reached by field (`&team.code`).
    pub const fn of(_: &R) -> Self {
        Probe(PhantomData)
    }
}

impl<F, R, X> Default for Probe<F, R, X> {
    fn default() -> Self {
        Probe::new()
    }
}

/// `R` is unknown: it belongs to a table whose derive failed (its errors are
/// reported there), or to a key of another length than the foreign key's
/// (a `const` check reports that).
pub trait UnknownProbe {
    /// Compiles: nothing to check.
    fn check(&self) {}
}

impl<F, X> UnknownProbe for &&&&Probe<F, Unknown, X> {}

/// `F` is `R`.
pub trait SameProbe {
    /// Compiles: the types fit.
    fn check(&self) {}
}

impl<T, X> SameProbe for &&&Probe<T, T, X> {}

/// `F` is `Option<R>`.
pub trait NullableProbe {
    /// Compiles: the types fit.
    fn check(&self) {}
}

impl<T, X> NullableProbe for &&Probe<Option<T>, T, X> {}

/// `F` is `Id<X>` or `Option<Id<X>>`, and `R` is `X`'s primary-key type.
pub trait IdProbe {
    /// Compiles: the types fit.
    fn check(&self) {}
}

impl<X: Table> IdProbe for &Probe<Id<X>, X::PrimaryKey, X> {}

impl<X: Table> IdProbe for &Probe<Option<Id<X>>, X::PrimaryKey, X> {}
