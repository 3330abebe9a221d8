//! `const fn` checks, run during constant evaluation so that what they
//! reject does not compile: the schema-level check of `schema![...]` (C11),
//! and the checks of a reference to another table that compare its keys
//! (C5, and the number of columns of a foreign key). Each returns the
//! message of its error, and the generated `const` panics with it, so that
//! the error points at the user's token and shows no frames of this module.

use std::borrow::Cow;

use const_panic::PanicVal;

use crate::metadata::{ForeignKeyMeta, List, Name, TableMeta};

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
/// references a table of the list, and no two tables share a SQL name.
///
/// Returns the message of the first violation; `schema!` panics with it in
/// its own constant, so that the compile error points at `schema![...]` and
/// shows no frames of this function.
pub const fn check_schema(tables: &[&'static TableMeta]) -> Option<Message> {
    let mut i = 0;
    while i < tables.len() {
        let name = borrowed_str(&tables[i].name);
        let mut j = i + 1;
        while j < tables.len() {
            if str_eq(name, borrowed_str(&tables[j].name)) {
                return Some(duplicate_name(tables[i], tables[j]));
            }
            j += 1;
        }
        i += 1;
    }
    let mut i = 0;
    while i < tables.len() {
        let foreign_keys = borrowed_list(&tables[i].foreign_keys);
        let mut k = 0;
        while k < foreign_keys.len() {
            let target = borrowed_str(&foreign_keys[k].referenced_table);
            let mut found = false;
            let mut j = 0;
            while j < tables.len() {
                found |= str_eq(target, borrowed_str(&tables[j].name));
                j += 1;
            }
            if !found {
                return Some(missing_target(tables[i], &foreign_keys[k]));
            }
            k += 1;
        }
        i += 1;
    }
    None
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
