//! The rules that `#[derive(Table)]` checks at compile time and the runtime
//! checks again for schemas built at run time, defined once here so the
//! two can never disagree.
//!
//! - [`serves`]: the prefix rule — which index can find the rows of a
//!   foreign key (or any equality lookup).

#![no_std]
#![warn(missing_docs)]

/// The prefix rule: an index whose columns are `index` (in index order)
/// serves an equality lookup on the columns `lookup` exactly when `lookup`,
/// as a set, equals the index's first `lookup.len()` columns. The order of
/// `lookup` does not matter; the index's order does.
///
/// A foreign key's referencing rows are found by an equality lookup on its
/// columns, so an index serves a foreign key exactly when
/// `serves(index, foreign_key_columns)`. An empty lookup is served by every
/// index (it reads all of it).
///
/// ```
/// use cascadia_rules::serves;
///
/// // index (team_id, joined_at) serves a lookup on team_id ...
/// assert!(serves(&["team_id", "joined_at"], &["team_id"]));
/// // ... and on (joined_at, team_id), in any order ...
/// assert!(serves(&["team_id", "joined_at"], &["joined_at", "team_id"]));
/// // ... but not on joined_at alone: it is not the first column.
/// assert!(!serves(&["team_id", "joined_at"], &["joined_at"]));
/// ```
pub fn serves<T: PartialEq>(index: &[T], lookup: &[T]) -> bool {
    let Some(head) = index.get(..lookup.len()) else {
        return false;
    };
    head.iter().all(|column| lookup.contains(column))
        && lookup.iter().all(|column| head.contains(column))
}

#[cfg(test)]
mod tests {
    use super::serves;

    #[test]
    fn a_set_equality_on_the_first_columns() {
        assert!(serves(&[1, 0, 2], &[0, 1]));
        assert!(serves(&[0], &[0]));
        assert!(!serves(&[0, 2, 1], &[0, 1]), "column 1 is third");
        assert!(!serves(&[1], &[0, 1]), "shorter than the lookup");
        assert!(!serves(&[1, 0], &[0]), "not the first column");
        assert!(
            !serves(&[0, 0], &[0, 1]),
            "a repeated column is not another"
        );
    }
}
