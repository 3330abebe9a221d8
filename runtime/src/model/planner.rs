//! The planner for filters only known at run time: `[(column, op, value)]` to
//! one legal index read plus the filters left to check on each row.
//!
//! It obeys the prefix rule that the typed index queries enforce at compile
//! time: an index is read with equality on its first columns, then at most
//! one range on the next column, and nothing after that. Among the primary
//! key and the table's indexes it prefers the use that covers the most
//! columns; ties go to more equality columns, then to a unique index, then to
//! the shorter index, then to declaration order (primary key first). When no
//! index serves any filter, it reports [`NoIndexServes`] unless the caller
//! allows a full scan.
//!
//! Comparisons follow SQL: a NULL value never satisfies a filter, and values of
//! different storage classes compare as in SQLite (see [`Value`]).

use std::fmt;
use std::ops::Bound;

use serde::{Deserialize, Serialize};

use crate::model::index_range::{ColumnRange, IndexRange};
use crate::model::metadata::{IndexRef, Name, TableMeta};
use crate::model::value::Value;

/// Whether a read may fall back to a full scan of the table when no index
/// serves its filters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FullScan {
    /// Refuse with [`NoIndexServes`] (the default): every read is
    /// index-backed.
    #[default]
    Refuse,
    /// Read the whole table when no index serves.
    Allow,
}

/// A comparison operator of a [`Filter`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FilterOp {
    /// `column = value`
    Eq,
    /// `column > value`
    Gt,
    /// `column >= value`
    Ge,
    /// `column < value`
    Lt,
    /// `column <= value`
    Le,
}

impl FilterOp {
    /// The operator as SQL writes it.
    pub const fn sql(self) -> &'static str {
        match self {
            FilterOp::Eq => "=",
            FilterOp::Gt => ">",
            FilterOp::Ge => ">=",
            FilterOp::Lt => "<",
            FilterOp::Le => "<=",
        }
    }
}

/// One condition `column op value` on a column (by SQL name) of a table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Filter {
    /// SQL name of the column.
    pub column: Name,
    /// The comparison.
    pub op: FilterOp,
    /// The value compared with; a NULL value matches no row, as in SQL.
    pub value: Value,
}

impl Filter {
    /// A filter `column op value`.
    pub fn new(column: impl Into<Name>, op: FilterOp, value: impl Into<Value>) -> Self {
        Filter {
            column: column.into(),
            op,
            value: value.into(),
        }
    }

    /// Whether a row whose value in this filter's column is `value` satisfies
    /// the filter (never when either side is NULL).
    pub fn matches(&self, value: &Value) -> bool {
        if value.is_null() || self.value.is_null() {
            return false;
        }
        match self.op {
            FilterOp::Eq => value == &self.value,
            FilterOp::Gt => value > &self.value,
            FilterOp::Ge => value >= &self.value,
            FilterOp::Lt => value < &self.value,
            FilterOp::Le => value <= &self.value,
        }
    }
}

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.column, self.op.sql(), self.value)
    }
}

/// How a [`QueryPlan`] reads the table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReadPath {
    /// Read one range of one index.
    Index(IndexRange),
    /// Read every row (only when the caller allowed a scan).
    Scan,
}

/// A plan for a dynamic filter: the read, then the filters to check on each
/// row it returns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueryPlan {
    /// The index range read, or a full scan.
    pub access: ReadPath,
    /// Filters the read does not already guarantee, to check on each row.
    pub residual: Vec<Filter>,
}

impl QueryPlan {
    /// Whether `row` (one value per column of `table`, in column order)
    /// satisfies the residual filters. Rows returned by the access path
    /// already satisfy the filters it consumed.
    pub fn residual_matches(&self, table: &TableMeta, row: &[Value]) -> bool {
        self.residual.iter().all(|filter| {
            table
                .column_position(&filter.column)
                .and_then(|position| row.get(position))
                .is_some_and(|value| filter.matches(value))
        })
    }
}

/// No index of the table can serve the filters through a legal prefix, and
/// the caller did not allow a full scan.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error(
    "no index of table `{table}` serves a filter on {columns}: an index is used through equality on its first columns, then one range on the next one; add an index that starts with one of these columns, or allow a full scan"
)]
pub struct NoIndexServes {
    /// SQL name of the table.
    pub table: String,
    /// The filtered columns, e.g. "`a`, `b`".
    pub columns: String,
}

/// One candidate use of one index.
struct Candidate {
    index: IndexRef,
    /// Filters (by position in the input) consumed as equality, in index order.
    equalities: Vec<usize>,
    /// Filters consumed as the lower and upper bound of the range.
    lower: Option<usize>,
    upper: Option<usize>,
    unique: bool,
    index_len: usize,
    order: usize,
}

impl Candidate {
    fn covered_columns(&self) -> usize {
        self.equalities.len() + usize::from(self.lower.is_some() || self.upper.is_some())
    }

    /// Ranking key: larger is better.
    fn rank(
        &self,
    ) -> (
        usize,
        usize,
        bool,
        std::cmp::Reverse<usize>,
        std::cmp::Reverse<usize>,
    ) {
        (
            self.covered_columns(),
            self.equalities.len(),
            self.unique,
            std::cmp::Reverse(self.index_len),
            std::cmp::Reverse(self.order),
        )
    }
}

/// Whether bound `a` excludes at least as much as bound `b`, both lower
/// (`lower = true`) or both upper bounds.
fn tighter(filters: &[Filter], a: usize, b: usize, lower: bool) -> bool {
    let (fa, fb) = (&filters[a], &filters[b]);
    match fa.value.cmp(&fb.value) {
        std::cmp::Ordering::Equal => matches!(fa.op, FilterOp::Gt | FilterOp::Lt),
        std::cmp::Ordering::Greater => lower,
        std::cmp::Ordering::Less => !lower,
    }
}

fn candidate(
    filters: &[Filter],
    index: IndexRef,
    columns: &[Name],
    unique: bool,
    order: usize,
) -> Candidate {
    let mut found = Candidate {
        index,
        equalities: Vec::new(),
        lower: None,
        upper: None,
        unique,
        index_len: columns.len(),
        order,
    };
    for column in columns {
        let equality = filters
            .iter()
            .position(|filter| filter.op == FilterOp::Eq && filter.column == *column);
        if let Some(position) = equality {
            found.equalities.push(position);
            continue;
        }
        for (position, filter) in filters.iter().enumerate() {
            if filter.column != *column {
                continue;
            }
            let (slot, lower) = match filter.op {
                FilterOp::Gt | FilterOp::Ge => (&mut found.lower, true),
                FilterOp::Lt | FilterOp::Le => (&mut found.upper, false),
                FilterOp::Eq => continue,
            };
            if slot.is_none_or(|current| tighter(filters, position, current, lower)) {
                *slot = Some(position);
            }
        }
        break;
    }
    found
}

fn bound(filters: &[Filter], position: Option<usize>) -> Bound<Value> {
    match position.map(|position| &filters[position]) {
        None => Bound::Unbounded,
        Some(filter) => match filter.op {
            FilterOp::Ge | FilterOp::Le => Bound::Included(filter.value.clone()),
            _ => Bound::Excluded(filter.value.clone()),
        },
    }
}

/// Plans a read of `table` for `filters` (all of which must hold).
///
/// Returns the best legal index use (see the module documentation) with the
/// unconsumed filters as residual, or [`ReadPath::Scan`] with every filter as
/// residual when no index serves and `scan` is [`FullScan::Allow`]. With no filters at
/// all, the plan is a scan if allowed.
///
/// # Errors
/// [`NoIndexServes`] when no index serves any filter and `scan` is
/// false. Filters naming columns the table does not have never match an index
/// and stay residual (where they match no row).
pub fn plan(
    table: &TableMeta,
    filters: &[Filter],
    scan: FullScan,
) -> Result<QueryPlan, NoIndexServes> {
    let primary = candidate(filters, IndexRef::PrimaryKey, &table.primary_key, true, 0);
    let best = table
        .indexes
        .iter()
        .enumerate()
        .map(|(order, index)| {
            candidate(
                filters,
                IndexRef::Index(index.name.clone()),
                &index.columns,
                index.unique,
                order + 1,
            )
        })
        .fold(primary, |best, next| {
            if next.rank() > best.rank() {
                next
            } else {
                best
            }
        });

    if best.covered_columns() == 0 {
        if scan == FullScan::Allow {
            return Ok(QueryPlan {
                access: ReadPath::Scan,
                residual: filters.to_vec(),
            });
        }
        let mut columns: Vec<String> = filters
            .iter()
            .map(|filter| format!("`{}`", filter.column))
            .collect();
        columns.dedup();
        return Err(NoIndexServes {
            table: table.name.to_string(),
            columns: if columns.is_empty() {
                "no column".into()
            } else {
                columns.join(", ")
            },
        });
    }

    let range = (best.lower.is_some() || best.upper.is_some()).then(|| ColumnRange {
        lower: bound(filters, best.lower),
        upper: bound(filters, best.upper),
    });
    let consumed: Vec<usize> = best
        .equalities
        .iter()
        .copied()
        .chain(best.lower)
        .chain(best.upper)
        .collect();
    let residual = filters
        .iter()
        .enumerate()
        .filter(|(position, _)| !consumed.contains(position))
        .map(|(_, filter)| filter.clone())
        .collect();
    let range = IndexRange {
        table: table.name.clone(),
        index: best.index,
        prefix: best
            .equalities
            .iter()
            .map(|&position| filters[position].value.clone())
            .collect(),
        range,
    };
    Ok(QueryPlan {
        access: ReadPath::Index(range),
        residual,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::metadata::{ColumnMeta, IndexMeta};
    use crate::model::value::ValueType;
    use proptest::prelude::*;
    use std::borrow::Cow;

    const COLUMNS: [&str; 5] = ["a", "b", "c", "d", "e"];

    fn table(primary_key: Vec<&'static str>, indexes: Vec<(Vec<&'static str>, bool)>) -> TableMeta {
        let names = |columns: Vec<&'static str>| -> Cow<'static, [Name]> {
            Cow::Owned(columns.into_iter().map(Cow::Borrowed).collect())
        };
        TableMeta {
            name: Cow::Borrowed("t"),
            type_name: Cow::Borrowed("T"),
            columns: Cow::Owned(
                COLUMNS
                    .iter()
                    .map(|&name| ColumnMeta {
                        name: Cow::Borrowed(name),
                        field: Cow::Borrowed(name),
                        rust_type: Cow::Borrowed("Option<i64>"),
                        value_type: ValueType::Integer,
                        nullable: true,
                        default: None,
                    })
                    .collect(),
            ),
            primary_key: names(primary_key),
            indexes: Cow::Owned(
                indexes
                    .into_iter()
                    .enumerate()
                    .map(|(i, (columns, unique))| IndexMeta {
                        name: Cow::Owned(format!("i{i}")),
                        columns: names(columns),
                        unique,
                        sql_name: None,
                    })
                    .collect(),
            ),
            foreign_keys: Cow::Borrowed(&[]),
            soft_delete: None,
            deletion: Default::default(),
        }
    }

    fn range_of(plan: &QueryPlan) -> &IndexRange {
        match &plan.access {
            ReadPath::Index(range) => range,
            ReadPath::Scan => panic!("expected an index read, got a scan"),
        }
    }

    #[test]
    fn equality_prefix_then_one_range() {
        let t = table(vec!["e"], vec![(vec!["a", "b", "c"], false)]);
        let filters = [
            Filter::new("b", FilterOp::Gt, 1),
            Filter::new("a", FilterOp::Eq, 7),
            Filter::new("b", FilterOp::Le, 9),
            Filter::new("c", FilterOp::Eq, 3),
        ];
        let plan = plan(&t, &filters, FullScan::Refuse).unwrap();
        let range = range_of(&plan);
        assert_eq!(range.index, IndexRef::Index("i0".into()));
        assert_eq!(range.prefix, vec![Value::Integer(7)]);
        assert_eq!(
            range.range,
            Some(ColumnRange {
                lower: Bound::Excluded(Value::Integer(1)),
                upper: Bound::Included(Value::Integer(9)),
            })
        );
        // `c` comes after the range: it cannot use the index.
        assert_eq!(plan.residual, vec![Filter::new("c", FilterOp::Eq, 3)]);
    }

    #[test]
    fn prefers_the_longest_match_then_unique_then_shorter() {
        let t = table(
            vec!["a"],
            vec![
                (vec!["b", "c"], false),
                (vec!["b", "c", "d"], false),
                (vec!["b", "c"], true),
            ],
        );
        let filters = [
            Filter::new("b", FilterOp::Eq, 1),
            Filter::new("c", FilterOp::Eq, 2),
        ];
        let plan = plan(&t, &filters, FullScan::Refuse).unwrap();
        assert_eq!(range_of(&plan).index, IndexRef::Index("i2".into()));
        assert!(plan.residual.is_empty());
    }

    #[test]
    fn a_range_counts_as_a_covered_column() {
        let t = table(vec!["a"], vec![(vec!["b", "c"], false)]);
        let filters = [
            Filter::new("a", FilterOp::Eq, 0),
            Filter::new("b", FilterOp::Eq, 1),
            Filter::new("c", FilterOp::Gt, 2),
        ];
        let plan = plan(&t, &filters, FullScan::Refuse).unwrap();
        assert_eq!(range_of(&plan).index, IndexRef::Index("i0".into()));
        assert_eq!(plan.residual, vec![Filter::new("a", FilterOp::Eq, 0)]);
    }

    #[test]
    fn tightest_bounds_win() {
        let t = table(vec!["a"], vec![]);
        let filters = [
            Filter::new("a", FilterOp::Ge, 5),
            Filter::new("a", FilterOp::Gt, 5),
            Filter::new("a", FilterOp::Gt, 2),
        ];
        let plan = plan(&t, &filters, FullScan::Refuse).unwrap();
        let range = range_of(&plan).range.clone().unwrap();
        assert_eq!(range.lower, Bound::Excluded(Value::Integer(5)));
        assert_eq!(plan.residual.len(), 2);
    }

    #[test]
    fn no_index_serves_a_non_prefix_filter() {
        let t = table(vec!["a"], vec![(vec!["b", "c"], false)]);
        let filters = [Filter::new("c", FilterOp::Eq, 1)];
        let error = plan(&t, &filters, FullScan::Refuse).unwrap_err();
        assert_eq!(error.table, "t");
        assert!(error.to_string().contains("`c`"), "{error}");
        let scan = plan(&t, &filters, FullScan::Allow).unwrap();
        assert_eq!(scan.access, ReadPath::Scan);
        assert_eq!(scan.residual, filters.to_vec());
    }

    fn arbitrary_columns() -> impl Strategy<Value = Vec<&'static str>> {
        Just(COLUMNS.to_vec())
            .prop_shuffle()
            .prop_flat_map(|columns| (1..=3usize).prop_map(move |n| columns[..n].to_vec()))
    }

    fn arbitrary_table() -> impl Strategy<Value = TableMeta> {
        (
            arbitrary_columns(),
            prop::collection::vec((arbitrary_columns(), any::<bool>()), 0..4),
        )
            .prop_map(|(primary_key, indexes)| table(primary_key, indexes))
    }

    fn arbitrary_filter() -> impl Strategy<Value = Filter> {
        (
            prop::sample::select(COLUMNS.to_vec()),
            prop::sample::select(vec![
                FilterOp::Eq,
                FilterOp::Gt,
                FilterOp::Ge,
                FilterOp::Lt,
                FilterOp::Le,
            ]),
            prop_oneof![9 => (0..4i64).prop_map(Value::Integer), 1 => Just(Value::Null)],
        )
            .prop_map(|(column, op, value)| Filter::new(column, op, value))
    }

    fn arbitrary_row() -> impl Strategy<Value = Vec<Value>> {
        prop::collection::vec(
            prop_oneof![9 => (0..4i64).prop_map(Value::Integer), 1 => Just(Value::Null)],
            COLUMNS.len(),
        )
    }

    /// The columns a legal use of `columns` could cover at most: equality on
    /// every leading column with an equality filter, plus one more column if
    /// it has a range filter. Computed independently of the planner.
    fn best_legal_cover(columns: &[Name], filters: &[Filter]) -> usize {
        let mut covered = 0;
        for column in columns {
            let on_column = |ops: &[FilterOp]| {
                filters
                    .iter()
                    .any(|filter| filter.column == *column && ops.contains(&filter.op))
            };
            if on_column(&[FilterOp::Eq]) {
                covered += 1;
            } else {
                if on_column(&[FilterOp::Gt, FilterOp::Ge, FilterOp::Lt, FilterOp::Le]) {
                    covered += 1;
                }
                break;
            }
        }
        covered
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2_000))]

        /// The plan always uses an index through a legal prefix, finds one
        /// whenever one exists, covers as many columns as the best legal use,
        /// and returns exactly the rows a filter over every row returns.
        #[test]
        fn planner_uses_only_legal_prefixes_and_finds_the_best(
            table in arbitrary_table(),
            filters in prop::collection::vec(arbitrary_filter(), 0..5),
            rows in prop::collection::vec(arbitrary_row(), 0..20),
        ) {
            let best_possible = std::iter::once(&*table.primary_key)
                .chain(table.indexes.iter().map(|index| &*index.columns))
                .map(|columns| best_legal_cover(columns, &filters))
                .max()
                .unwrap_or(0);
            let planned = plan(&table, &filters, FullScan::Refuse);
            prop_assert_eq!(planned.is_ok(), best_possible > 0);
            let plan = match planned {
                Ok(plan) => plan,
                Err(_) => plan(&table, &filters, FullScan::Allow).unwrap(),
            };

            let mut consumed = filters.clone();
            for filter in &plan.residual {
                let position = consumed.iter().position(|f| f == filter);
                prop_assert!(position.is_some(), "residual {} is not an input filter", filter);
                consumed.remove(position.unwrap());
            }

            if let ReadPath::Index(range) = &plan.access {
                let columns = range.index_columns(&table).unwrap();
                // Legal prefix: equality on the first columns, in order...
                for (column, value) in columns.iter().zip(&range.prefix) {
                    prop_assert!(consumed.iter().any(|f| f.column == *column && f.op == FilterOp::Eq && f.value == *value));
                }
                // ...then at most one range, on the very next column, made of
                // consumed range filters only.
                let covered = range.prefix.len() + usize::from(range.range.is_some());
                prop_assert!(covered <= columns.len());
                prop_assert_eq!(covered, best_possible);
                prop_assert_eq!(consumed.len(), range.prefix.len()
                    + match &range.range {
                        None => 0,
                        Some(r) => usize::from(!matches!(r.lower, Bound::Unbounded)) + usize::from(!matches!(r.upper, Bound::Unbounded)),
                    });
                for filter in consumed.iter().filter(|f| f.op != FilterOp::Eq) {
                    prop_assert_eq!(&filter.column, &columns[range.prefix.len()]);
                }
            } else {
                prop_assert!(consumed.is_empty());
            }

            // Same rows as filtering everything.
            let by_plan: Vec<&Vec<Value>> = rows.iter().filter(|row| {
                let read = match &plan.access {
                    ReadPath::Scan => true,
                    ReadPath::Index(range) => {
                        let values: Vec<Value> = range.index_columns(&table).unwrap().iter()
                            .map(|column| row[table.column_position(column).unwrap()].clone())
                            .collect();
                        range.matches(&values)
                    }
                };
                read && plan.residual_matches(&table, row)
            }).collect();
            let by_filter: Vec<&Vec<Value>> = rows.iter().filter(|row| filters.iter().all(|filter| {
                filter.matches(&row[table.column_position(&filter.column).unwrap()])
            })).collect();
            prop_assert_eq!(by_plan, by_filter);
        }
    }
}
