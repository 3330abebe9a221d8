//! `const fn` checks, run during constant evaluation so that what they
//! reject does not compile: the schema-level check of `schema![...]` (C11),
//! and the checks of a reference to another table that compare its keys
//! (C5, and the number of columns of a foreign key). Each returns the
//! message of its error, and the generated `const` panics with it, so that
//! the error points at the user's token and shows no frames of this module.

use std::borrow::Cow;

use const_panic::PanicVal;

use crate::model::metadata::{ForeignKeyMeta, List, Name, TableMeta};

/// The `&'static str` of a name the derive emitted (always borrowed).
///
/// # Panics
/// On an owned name: a `TableMeta` built at run time, which `schema![...]`
/// never sees.
pub const fn borrowed_str(name: &Name) -> &'static str {
    match name {
        Cow::Borrowed(name) => name,
        Cow::Owned(_) => panic!("cascadia: `schema![...]` only takes derived tables"),
    }
}

/// The `&'static [T]` of a list the derive emitted (always borrowed).
///
/// # Panics
/// On an owned list, as [`borrowed_str`].
pub const fn borrowed_list<T>(list: &List<T>) -> &'static [T]
where
    [T]: ToOwned,
{
    match list {
        Cow::Borrowed(list) => list,
        Cow::Owned(_) => panic!("cascadia: `schema![...]` only takes derived tables"),
    }
}

pub(super) const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// The most foreign-key columns a C11 message spells out.
const SHOWN_COLUMNS: usize = 8;

/// The parts of the message of a failed check, for `concat_panic`.
pub type Message = [PanicVal<'static>; 16 + 2 * SHOWN_COLUMNS];

/// C11, the schema-level check behind `schema![A, B, C]`: every foreign key
/// references a table of the list, and no two tables share a SQL name. `N`
/// is the number of tables.
///
/// Returns the message of the first violation (two tables with one name
/// first, by their position in the list; then the first foreign key, in list
/// order, to a table missing from it); `schema!` panics with it in its own
/// constant, so that the compile error points at `schema![...]` and shows no
/// frames of this function.
///
/// Constant evaluation is slow, so the names are compared through a sorted
/// list of their hashes: a few hundred steps per table rather than one
/// comparison per pair of tables, which a schema of a hundred tables would
/// pay for with seconds of every build.
pub const fn check_schema<const N: usize>(tables: &[&'static TableMeta]) -> Option<Message> {
    assert!(tables.len() == N, "`check_schema::<N>` takes N tables");
    let mut hashes = [0u64; N];
    let mut i = 0;
    while i < N {
        hashes[i] = hash(borrowed_str(&tables[i].name));
        i += 1;
    }
    let sorted = sort_by_hash(&hashes);
    // Equal names are neighbours in hash order: report the pair that comes
    // first in the list.
    let mut duplicate: Option<(usize, usize)> = None;
    let mut k = 1;
    while k < N {
        let (a, b) = (sorted[k - 1], sorted[k]);
        if hashes[a] == hashes[b]
            && str_eq(borrowed_str(&tables[a].name), borrowed_str(&tables[b].name))
        {
            let pair = if a < b { (a, b) } else { (b, a) };
            duplicate = match duplicate {
                Some(first) if first.0 < pair.0 || (first.0 == pair.0 && first.1 < pair.1) => {
                    Some(first)
                }
                _ => Some(pair),
            };
        }
        k += 1;
    }
    if let Some((a, b)) = duplicate {
        return Some(duplicate_name(tables[a], tables[b]));
    }
    let mut i = 0;
    while i < N {
        let foreign_keys = borrowed_list(&tables[i].foreign_keys);
        let mut f = 0;
        while f < foreign_keys.len() {
            let target = borrowed_str(&foreign_keys[f].referenced_table);
            if !listed(tables, &hashes, &sorted, target) {
                return Some(missing_target(tables[i], &foreign_keys[f]));
            }
            f += 1;
        }
        i += 1;
    }
    None
}

/// FNV-1a.
const fn hash(name: &str) -> u64 {
    let bytes = name.as_bytes();
    let mut hash = 0xcbf2_9ce4_8422_2325_u64;
    let mut i = 0;
    while i < bytes.len() {
        hash ^= bytes[i] as u64;
        hash = hash.wrapping_mul(0x0100_0000_01b3);
        i += 1;
    }
    hash
}

/// The positions `0..N` ordered by `hashes` (heapsort).
const fn sort_by_hash<const N: usize>(hashes: &[u64; N]) -> [usize; N] {
    let mut order = [0usize; N];
    let mut i = 0;
    while i < N {
        order[i] = i;
        i += 1;
    }
    let mut start = N / 2;
    while start > 0 {
        start -= 1;
        sift_down(&mut order, hashes, start, N);
    }
    let mut end = N;
    while end > 1 {
        end -= 1;
        order.swap(0, end);
        sift_down(&mut order, hashes, 0, end);
    }
    order
}

const fn sift_down<const N: usize>(
    order: &mut [usize; N],
    hashes: &[u64; N],
    mut root: usize,
    end: usize,
) {
    loop {
        let mut child = 2 * root + 1;
        if child >= end {
            return;
        }
        if child + 1 < end && hashes[order[child + 1]] > hashes[order[child]] {
            child += 1;
        }
        if hashes[order[root]] >= hashes[order[child]] {
            return;
        }
        order.swap(root, child);
        root = child;
    }
}

/// Whether a table of the list is named `name`: a binary search of the
/// hashes, confirmed by comparing the names.
const fn listed<const N: usize>(
    tables: &[&'static TableMeta],
    hashes: &[u64; N],
    sorted: &[usize; N],
    name: &str,
) -> bool {
    let wanted = hash(name);
    let (mut low, mut high) = (0, N);
    while low < high {
        let middle = low + (high - low) / 2;
        if hashes[sorted[middle]] < wanted {
            low = middle + 1;
        } else {
            high = middle;
        }
    }
    while low < N && hashes[sorted[low]] == wanted {
        if str_eq(borrowed_str(&tables[sorted[low]].name), name) {
            return true;
        }
        low += 1;
    }
    false
}

/// A check of a key of `T` that a foreign key of `columns` columns references
/// by its primary key: `T`'s key must have as many columns. The message is
/// `before`, the key (`2 columns (org_id, code)`), then `after`.
pub const fn key_length(
    key: &'static [Name],
    stub: bool,
    columns: usize,
    before: &'static str,
    after: &'static str,
) -> Option<Message> {
    if stub || key.len() == columns {
        return None;
    }
    let mut parts = message(&[
        PanicVal::write_str(before),
        PanicVal::from_usize(key.len(), const_panic::FmtArg::DISPLAY),
        PanicVal::write_str(if key.len() == 1 {
            " column ("
        } else {
            " columns ("
        }),
    ]);
    let at = names(&mut parts, 3, key);
    parts[at] = PanicVal::write_str(")");
    parts[at + 1] = PanicVal::write_str(after);
    Some(parts)
}

/// C5: the referenced `columns` (field names, sorted) are one of `keys`
/// ([`DerivedTable::KEYS`](super::DerivedTable::KEYS)); `error` says why not.
pub const fn unique_key(
    keys: &'static [&'static [&'static str]],
    stub: bool,
    columns: &[&str],
    error: &'static str,
) -> Option<Message> {
    let mut k = 0;
    while k < keys.len() {
        if keys[k].len() == columns.len() {
            let mut same = true;
            let mut i = 0;
            while i < columns.len() {
                same &= str_eq(keys[k][i], columns[i]);
                i += 1;
            }
            if same {
                return None;
            }
        }
        k += 1;
    }
    if stub {
        return None;
    }
    Some(message(&[PanicVal::write_str(error)]))
}

/// Writes `names` into `parts` from `at`, separated by `, ` (at most
/// [`SHOWN_COLUMNS`]); returns the next free position.
const fn names(parts: &mut Message, at: usize, names: &'static [Name]) -> usize {
    let mut at = at;
    let mut i = 0;
    while i < names.len() && i < SHOWN_COLUMNS {
        if i > 0 {
            parts[at] = PanicVal::write_str(", ");
            at += 1;
        }
        parts[at] = PanicVal::write_str(borrowed_str(&names[i]));
        at += 1;
        i += 1;
    }
    if names.len() > SHOWN_COLUMNS {
        parts[at] = PanicVal::write_str(", ...");
        at += 1;
    }
    at
}

/// `parts` followed by empty values.
const fn message(parts: &[PanicVal<'static>]) -> Message {
    let mut message = [PanicVal::EMPTY; 16 + 2 * SHOWN_COLUMNS];
    let mut i = 0;
    while i < parts.len() {
        message[i] = parts[i];
        i += 1;
    }
    message
}

const fn duplicate_name(first: &'static TableMeta, second: &'static TableMeta) -> Message {
    let name = borrowed_str(&first.name);
    let (first, second) = (
        borrowed_str(&first.type_name),
        borrowed_str(&second.type_name),
    );
    if str_eq(first, second) {
        return message(&[
            PanicVal::write_str("`schema![...]` lists `"),
            PanicVal::write_str(first),
            PanicVal::write_str("` twice; list each table once"),
        ]);
    }
    message(&[
        PanicVal::write_str("`schema![...]` has two tables named `"),
        PanicVal::write_str(name),
        PanicVal::write_str("`: `"),
        PanicVal::write_str(first),
        PanicVal::write_str("` and `"),
        PanicVal::write_str(second),
        PanicVal::write_str("`; rename one with `#[table(name = \"...\")]`"),
    ])
}

const fn missing_target(
    table: &'static TableMeta,
    foreign_key: &'static ForeignKeyMeta,
) -> Message {
    let columns = borrowed_list(&foreign_key.columns);
    let mut parts = message(&[
        PanicVal::write_str("`schema![...]` is missing table `"),
        PanicVal::write_str(borrowed_str(&foreign_key.referenced_table)),
        PanicVal::write_str("`, which the foreign key `"),
        PanicVal::write_str(borrowed_str(&table.name)),
        PanicVal::write_str("("),
    ]);
    let at = names(&mut parts, 5, columns);
    parts[at] = PanicVal::write_str(")` of `");
    parts[at + 1] = PanicVal::write_str(borrowed_str(&table.type_name));
    parts[at + 2] = PanicVal::write_str("` references; add the table's type to the list");
    parts
}
