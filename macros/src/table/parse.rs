//! Stage 1, parse: the derive input and its attributes into plain structs,
//! with darling. Nothing here resolves a name: columns stay idents as the user
//! wrote them, the referenced table stays a path. Errors (C1: unknown or
//! misplaced attribute, unknown key, malformed value) go to the accumulator,
//! spanned on the offending token; whatever parsed is kept, so that later
//! stages can report their own errors in the same build.

use darling::ast::NestedMeta;
use darling::util::Ignored;
use darling::{FromDeriveInput, FromField, FromMeta, ast};
use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::{Attribute, Expr, Ident, Lit, Meta, Path, Type};

use super::Errors;

/// A struct deriving `Table`, its attributes parsed.
pub struct RawTable {
    pub ident: Ident,
    pub vis: syn::Visibility,
    /// `#[table(...)]`, merged over every occurrence (empty when absent).
    pub table: TableAttr,
    /// Struct-level `#[index(...)]`, in declaration order.
    pub indexes: Vec<IndexAttr>,
    /// Struct-level `#[foreign_key(...)]`, in declaration order, with the
    /// span of the attribute's name.
    pub foreign_keys: Vec<(Span, ForeignKeyAttr)>,
    pub fields: Vec<RawField>,
    /// Which attributes failed to parse: the checks that depend on them stay
    /// quiet rather than report a consequence of the parse error.
    pub broken: Broken,
}

/// Attributes that did not parse (see [`RawTable::broken`]).
#[derive(Default, Clone, Copy)]
pub struct Broken {
    /// A `#[table(...)]`: the primary key may be missing for that reason.
    pub table: bool,
    /// An `#[index(...)]` or `#[unique]`: a foreign key may lack its index
    /// for that reason.
    pub index: bool,
    /// A `#[foreign_key(...)]`: it may have been meant to replace the implicit
    /// key of an `Id<T>` field.
    pub foreign_key: bool,
}

/// One named field with its attributes.
pub struct RawField {
    pub ident: Ident,
    pub vis: syn::Visibility,
    pub ty: Type,
    /// `#[primary_key]`.
    pub primary_key: Option<Span>,
    /// `#[unique]`.
    pub unique: Option<Span>,
    /// `#[soft_delete]`.
    pub soft_delete: Option<Span>,
    /// `#[column(...)]`, merged (empty when absent).
    pub column: ColumnAttr,
    /// Field-level `#[foreign_key(...)]`, with the span of the attribute's name.
    pub foreign_keys: Vec<(Span, ForeignKeyAttr)>,
}

/// `#[table(name = "...", primary_key(a, b), rename_all = "...", crate = path, deletion = soft)]`
#[derive(FromMeta, Default)]
#[darling(allow_unknown_fields)]
pub struct TableAttr {
    pub name: Option<SqlName>,
    pub primary_key: Option<ColumnList>,
    pub rename_all: Option<RenameAll>,
    #[darling(rename = "crate")]
    pub krate: Option<CratePath>,
    pub deletion: Option<DeletionValue>,
}

/// What a plain `delete` of the table does: `deletion = hard | soft |
/// soft_cascade | scheduled(days = 30)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeletionKind {
    Hard,
    Soft,
    SoftCascade,
    /// Soft now, for good after this many milliseconds.
    Scheduled {
        after_ms: u64,
    },
}

/// A deletion mode as written, with the span of its name.
#[derive(Clone, Copy)]
pub struct DeletionValue {
    pub kind: DeletionKind,
    pub span: Span,
}

const DELETION_NAMES: [&str; 4] = ["hard", "soft", "soft_cascade", "scheduled"];
/// The units of `scheduled(...)`, in milliseconds.
const DELAY_UNITS: [(&str, u64); 4] = [
    ("seconds", 1_000),
    ("minutes", 60_000),
    ("hours", 3_600_000),
    ("days", 86_400_000),
];

impl FromMeta for DeletionValue {
    // Rejects `deletion = "soft"`, `deletion = sof`, `deletion = scheduled`
    // without its delay, and `scheduled(weeks = 1)`.
    fn from_expr(expr: &Expr) -> darling::Result<Self> {
        let expected = list_keys(&DELETION_NAMES);
        match expr {
            Expr::Group(group) => Self::from_expr(&group.expr),
            Expr::Path(path) if path.path.get_ident().is_some() => {
                let ident = path.path.get_ident().expect("checked above");
                let kind = match ident.to_string().as_str() {
                    "hard" => DeletionKind::Hard,
                    "soft" => DeletionKind::Soft,
                    "soft_cascade" => DeletionKind::SoftCascade,
                    "scheduled" => {
                        return Err(darling::Error::custom(
                            "`scheduled` needs its delay: `deletion = scheduled(days = 30)` \
                             (seconds, minutes, hours or days)",
                        )
                        .with_span(ident));
                    }
                    written => {
                        return Err(darling::Error::custom(format!(
                            "unknown deletion mode `{written}`{}; expected one of {expected}",
                            did_you_mean(written, &DELETION_NAMES)
                        ))
                        .with_span(ident));
                    }
                };
                Ok(DeletionValue {
                    kind,
                    span: ident.span(),
                })
            }
            Expr::Call(call) => scheduled(call),
            Expr::Lit(syn::ExprLit {
                lit: Lit::Str(lit), ..
            }) => Err(darling::Error::custom(format!(
                "write the deletion mode without quotes: `deletion = {}`",
                lit.value()
            ))
            .with_span(lit)),
            _ => Err(darling::Error::custom(format!(
                "expected a deletion mode: one of {expected}"
            ))
            .with_span(expr)),
        }
    }

    fn from_word() -> darling::Result<Self> {
        Err(darling::Error::custom(
            "expected a deletion mode after `=`, e.g. `deletion = soft`",
        ))
    }
}

/// `scheduled(days = 30)`: one unit, an integer delay.
fn scheduled(call: &syn::ExprCall) -> darling::Result<DeletionValue> {
    let is_scheduled = matches!(&*call.func, Expr::Path(p) if p.path.is_ident("scheduled"));
    if !is_scheduled {
        return Err(darling::Error::custom(format!(
            "expected a deletion mode: one of {}",
            list_keys(&DELETION_NAMES)
        ))
        .with_span(&call.func));
    }
    let units = DELAY_UNITS.map(|(unit, _)| unit);
    let hint =
        "write the delay as one unit: `scheduled(days = 30)` (seconds, minutes, hours or days)";
    let mut args = call.args.iter();
    let (Some(Expr::Assign(assign)), None) = (args.next(), args.next()) else {
        return Err(darling::Error::custom(hint).with_span(&call.args));
    };
    let unit = match &*assign.left {
        Expr::Path(path) => path.path.get_ident().map(ToString::to_string),
        _ => None,
    };
    let Some((_, unit_ms)) = DELAY_UNITS
        .iter()
        .find(|(name, _)| Some(*name) == unit.as_deref())
    else {
        let written = unit.unwrap_or_default();
        return Err(darling::Error::custom(format!(
            "unknown unit `{written}`{}; {hint}",
            did_you_mean(&written, &units)
        ))
        .with_span(&assign.left));
    };
    let amount = match &*assign.right {
        Expr::Lit(syn::ExprLit {
            lit: Lit::Int(int), ..
        }) => int.base10_parse::<u64>().ok(),
        _ => None,
    };
    let after_ms = amount.and_then(|amount| amount.checked_mul(*unit_ms));
    let Some(after_ms) = after_ms else {
        return Err(darling::Error::custom(
            "expected a whole number of the unit that fits in u64 milliseconds, e.g. `days = 30`",
        )
        .with_span(&assign.right));
    };
    Ok(DeletionValue {
        kind: DeletionKind::Scheduled { after_ms },
        span: call.func.span(),
    })
}

/// `crate = renamed`: the path of the `cascadia` crate, when it is renamed
/// or re-exported; generated code reaches the runtime through it.
pub struct CratePath(pub Path);

impl FromMeta for CratePath {
    // Rejects `crate = "renamed"` and `crate = 1`.
    fn from_expr(expr: &Expr) -> darling::Result<Self> {
        match expr {
            Expr::Group(group) => Self::from_expr(&group.expr),
            Expr::Path(path) if path.qself.is_none() => Ok(CratePath(path.path.clone())),
            Expr::Lit(syn::ExprLit {
                lit: Lit::Str(lit), ..
            }) => Err(darling::Error::custom(format!(
                "write the path without quotes: `crate = {}`",
                lit.value()
            ))
            .with_span(lit)),
            _ => Err(darling::Error::custom(
                "expected the path of the `cascadia` crate, e.g. `crate = renamed` or `crate = my_crate::reexports::cascadia`",
            )
            .with_span(expr)),
        }
    }

    fn from_word() -> darling::Result<Self> {
        Err(darling::Error::custom(
            "expected a path after `=`, e.g. `crate = renamed`",
        ))
    }
}

/// `rename_all = "PascalCase"`: how column names are made from field names,
/// with serde's names for the cases.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum RenameAll {
    Lower,
    Upper,
    Pascal,
    Camel,
    Snake,
    ScreamingSnake,
    Kebab,
    ScreamingKebab,
}

impl RenameAll {
    /// serde's names of the cases.
    pub const ALL: [(&'static str, RenameAll); 8] = [
        ("lowercase", RenameAll::Lower),
        ("UPPERCASE", RenameAll::Upper),
        ("PascalCase", RenameAll::Pascal),
        ("camelCase", RenameAll::Camel),
        ("snake_case", RenameAll::Snake),
        ("SCREAMING_SNAKE_CASE", RenameAll::ScreamingSnake),
        ("kebab-case", RenameAll::Kebab),
        ("SCREAMING-KEBAB-CASE", RenameAll::ScreamingKebab),
    ];

    /// The column name of field `field` (written in snake_case, as serde
    /// assumes): `artist_id` is `ArtistId` in PascalCase.
    pub fn apply(self, field: &str) -> String {
        use heck::{
            ToKebabCase, ToLowerCamelCase, ToShoutyKebabCase, ToShoutySnakeCase, ToUpperCamelCase,
        };
        match self {
            RenameAll::Lower => field.to_ascii_lowercase(),
            RenameAll::Upper => field.to_ascii_uppercase(),
            RenameAll::Pascal => field.to_upper_camel_case(),
            RenameAll::Camel => field.to_lower_camel_case(),
            RenameAll::Snake => field.to_owned(),
            RenameAll::ScreamingSnake => field.to_shouty_snake_case(),
            RenameAll::Kebab => field.to_kebab_case(),
            RenameAll::ScreamingKebab => field.to_shouty_kebab_case(),
        }
    }
}

impl FromMeta for RenameAll {
    // Rejects `rename_all = PascalCase`, `rename_all = "Pascal"`.
    fn from_expr(expr: &Expr) -> darling::Result<Self> {
        let names = RenameAll::ALL.map(|(name, _)| name);
        match expr {
            Expr::Group(group) => Self::from_expr(&group.expr),
            Expr::Lit(syn::ExprLit {
                lit: Lit::Str(lit), ..
            }) => {
                let written = lit.value();
                RenameAll::ALL
                    .iter()
                    .find(|(name, _)| *name == written)
                    .map(|(_, case)| *case)
                    .ok_or_else(|| {
                        darling::Error::custom(format!(
                            "unknown case `{written}`{}; expected one of {}",
                            did_you_mean(&written, &names),
                            list_keys(&names)
                        ))
                        .with_span(lit)
                    })
            }
            _ => Err(darling::Error::custom(format!(
                "expected a case in quotes, e.g. `rename_all = \"PascalCase\"`; one of {}",
                list_keys(&names)
            ))
            .with_span(expr)),
        }
    }

    fn from_word() -> darling::Result<Self> {
        Err(darling::Error::custom(
            "expected a case after `=`, e.g. `rename_all = \"PascalCase\"`",
        ))
    }
}

/// `#[index(name = "...", sql_name = "...", columns(a, b), unique)]`
#[derive(FromMeta)]
#[darling(allow_unknown_fields)]
pub struct IndexAttr {
    pub name: Option<SqlName>,
    pub sql_name: Option<SqlName>,
    pub columns: Option<ColumnList>,
    pub unique: Option<Flag>,
    #[darling(skip)]
    pub span: Option<Span>,
}

/// `#[foreign_key(columns(a), references = T(c), on_delete = ..., on_update = ...,
/// index = "...", unindexed, name = "...", native)]`; `columns` only at struct level.
#[derive(FromMeta)]
#[darling(allow_unknown_fields)]
pub struct ForeignKeyAttr {
    pub columns: Option<ColumnList>,
    pub references: Option<Reference>,
    pub on_delete: Option<ActionValue>,
    pub on_update: Option<ActionValue>,
    pub index: Option<SqlName>,
    pub unindexed: Option<Flag>,
    pub name: Option<SqlName>,
    pub native: Option<Flag>,
}

/// `#[column(name = "...", default = <expr>)]`
#[derive(FromMeta, Default)]
#[darling(allow_unknown_fields)]
pub struct ColumnAttr {
    pub name: Option<SqlName>,
    pub default: Option<DefaultExpr>,
}

/// A SQL name: a non-empty string literal.
#[derive(Clone)]
pub struct SqlName {
    pub value: String,
    pub span: Span,
}

impl FromMeta for SqlName {
    // Rejects `name = teams`, `name = ""`, `name` and `name(...)`.
    fn from_meta(item: &Meta) -> darling::Result<Self> {
        let key = darling::util::path_to_string(item.path());
        let value = match item {
            Meta::NameValue(value) => &value.value,
            _ => {
                return Err(darling::Error::custom(format!(
                    "`{key}` takes a name in quotes: `{key} = \"...\"`"
                ))
                .with_span(item));
            }
        };
        match value {
            Expr::Group(group) => Self::from_expr(&group.expr),
            Expr::Path(path) if path.path.get_ident().is_some() => {
                Err(darling::Error::custom(format!(
                    "write the name in quotes: `{key} = \"{}\"`",
                    path.path.get_ident().expect("checked above")
                ))
                .with_span(value))
            }
            _ => Self::from_expr(value),
        }
    }

    fn from_expr(expr: &Expr) -> darling::Result<Self> {
        match expr {
            Expr::Lit(syn::ExprLit {
                lit: Lit::Str(lit), ..
            }) if lit.value().is_empty() => {
                Err(darling::Error::custom("a name cannot be empty").with_span(lit))
            }
            Expr::Lit(syn::ExprLit {
                lit: Lit::Str(lit), ..
            }) => Ok(SqlName {
                value: lit.value(),
                span: lit.span(),
            }),
            Expr::Group(group) => Self::from_expr(&group.expr),
            _ => Err(
                darling::Error::custom("expected a name in quotes, e.g. `\"teams\"`")
                    .with_span(expr),
            ),
        }
    }
}

/// A list of columns: `columns(a, b)`, each a field ident of the struct.
pub struct ColumnList {
    pub columns: Vec<Ident>,
}

impl FromMeta for ColumnList {
    // Rejects `columns("a")`, `columns(a::b)`, `columns()` and `columns = a`.
    fn from_list(items: &[NestedMeta]) -> darling::Result<Self> {
        let mut errors = darling::Error::accumulator();
        let mut columns = Vec::new();
        for item in items {
            match item {
                NestedMeta::Meta(Meta::Path(path)) if path.get_ident().is_some() => {
                    columns.extend(path.get_ident().cloned());
                }
                NestedMeta::Lit(Lit::Str(lit)) => errors.push(
                    darling::Error::custom(format!(
                        "write the column without quotes: `{}`",
                        lit.value()
                    ))
                    .with_span(lit),
                ),
                _ => errors.push(
                    darling::Error::custom("expected a column: the name of a field of the struct")
                        .with_span(item),
                ),
            }
        }
        if items.is_empty() {
            errors.push(darling::Error::custom(
                "expected at least one column, e.g. `columns(team_id)`",
            ));
        }
        errors.finish_with(ColumnList { columns })
    }

    fn from_word() -> darling::Result<Self> {
        Err(darling::Error::custom(
            "expected a list of columns, e.g. `columns(team_id, joined_at)`",
        ))
    }

    fn from_expr(expr: &Expr) -> darling::Result<Self> {
        Err(darling::Error::custom(
            "expected a list of columns in parentheses, e.g. `columns(team_id, joined_at)`",
        )
        .with_span(expr))
    }
}

/// A key that takes no value: `unique`, `unindexed`.
#[derive(Clone, Copy)]
pub struct Flag(pub Span);

impl FromMeta for Flag {
    // Rejects `unique = true` and `unindexed(...)`.
    fn from_meta(item: &Meta) -> darling::Result<Self> {
        match item {
            Meta::Path(path) => Ok(Flag(path.span())),
            _ => Err(darling::Error::custom(format!(
                "`{}` takes no value: write the key alone",
                darling::util::path_to_string(item.path())
            ))
            .with_span(item)),
        }
    }
}

/// A referential action.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[expect(clippy::enum_variant_names, reason = "`NoAction` is SQL's `NO ACTION`")]
pub enum Action {
    Cascade,
    Restrict,
    NoAction,
    SetNull,
    SetDefault,
}

impl Action {
    pub const ALL: [(&'static str, Action); 5] = [
        ("cascade", Action::Cascade),
        ("restrict", Action::Restrict),
        ("no_action", Action::NoAction),
        ("set_null", Action::SetNull),
        ("set_default", Action::SetDefault),
    ];

    /// The action as the attribute language spells it.
    pub fn attribute(self) -> &'static str {
        Action::ALL
            .iter()
            .find(|(_, action)| *action == self)
            .map_or("no_action", |(name, _)| name)
    }
}

/// An action as written: `on_delete = cascade`, with the ident's span.
#[derive(Clone, Copy)]
pub struct ActionValue {
    pub action: Action,
    pub span: Span,
}

impl FromMeta for ActionValue {
    // Rejects `on_delete = "cascade"`, `on_delete = Cascade`, `on_delete = cascde`.
    fn from_expr(expr: &Expr) -> darling::Result<Self> {
        let names = Action::ALL.map(|(name, _)| name);
        let expected = list_keys(&names);
        match expr {
            Expr::Group(group) => Self::from_expr(&group.expr),
            Expr::Path(path) if path.path.get_ident().is_some() => {
                let ident = path.path.get_ident().expect("checked above");
                let written = ident.to_string();
                match Action::ALL.iter().find(|(name, _)| *name == written) {
                    Some((_, action)) => Ok(ActionValue {
                        action: *action,
                        span: ident.span(),
                    }),
                    None => Err(darling::Error::custom(format!(
                        "unknown action `{written}`{}; expected one of {expected}",
                        did_you_mean(&written, &names)
                    ))
                    .with_span(ident)),
                }
            }
            Expr::Lit(syn::ExprLit {
                lit: Lit::Str(lit), ..
            }) => Err(darling::Error::custom(format!(
                "write the action without quotes: `{}`",
                lit.value()
            ))
            .with_span(lit)),
            _ => Err(
                darling::Error::custom(format!("expected an action: one of {expected}"))
                    .with_span(expr),
            ),
        }
    }

    fn from_word() -> darling::Result<Self> {
        Err(darling::Error::custom(
            "expected an action after `=`, e.g. `on_delete = cascade`",
        ))
    }
}

/// `references = Team` or `references = Team(org_id, code)`.
#[derive(Clone)]
pub struct Reference {
    /// The referenced table's type, as written.
    pub table: Path,
    /// The referenced columns (fields of the referenced table), if named.
    pub columns: Option<Vec<Ident>>,
}

impl FromMeta for Reference {
    // Rejects `references = "Team"`, `references = Team("id")`, `references = 3`.
    fn from_expr(expr: &Expr) -> darling::Result<Self> {
        let shape =
            "expected a table type, e.g. `references = Team` or `references = Team(org_id, code)`";
        match expr {
            Expr::Group(group) => Self::from_expr(&group.expr),
            Expr::Path(path) if path.qself.is_none() => Ok(Reference {
                table: path.path.clone(),
                columns: None,
            }),
            Expr::Call(call) => {
                let Expr::Path(path) = &*call.func else {
                    return Err(darling::Error::custom(shape).with_span(&call.func));
                };
                let mut errors = darling::Error::accumulator();
                let mut columns = Vec::new();
                for arg in &call.args {
                    match arg {
                        Expr::Path(column) if column.path.get_ident().is_some() => {
                            columns.extend(column.path.get_ident().cloned());
                        }
                        Expr::Lit(syn::ExprLit {
                            lit: Lit::Str(lit), ..
                        }) => errors.push(
                            darling::Error::custom(format!(
                                "write the column without quotes: `{}`",
                                lit.value()
                            ))
                            .with_span(lit),
                        ),
                        _ => errors.push(
                            darling::Error::custom(
                                "expected a column: the name of a field of the referenced table",
                            )
                            .with_span(arg),
                        ),
                    }
                }
                if call.args.is_empty() {
                    errors.push(
                        darling::Error::custom(
                            "name at least one column, or drop the parentheses to reference the primary key",
                        )
                        .with_span(expr),
                    );
                }
                errors.finish_with(Reference {
                    table: path.path.clone(),
                    columns: Some(columns),
                })
            }
            Expr::Lit(syn::ExprLit {
                lit: Lit::Str(lit), ..
            }) => Err(darling::Error::custom(format!(
                "write the table type without quotes: `references = {}`",
                lit.value()
            ))
            .with_span(lit)),
            _ => Err(darling::Error::custom(shape).with_span(expr)),
        }
    }

    fn from_word() -> darling::Result<Self> {
        Err(darling::Error::custom(
            "expected a table type after `=`, e.g. `references = Team`",
        ))
    }
}

/// `default = <expr>`: any expression, kept as written (a string literal is a
/// string, not an expression to parse).
#[derive(Clone)]
pub struct DefaultExpr(pub Expr);

impl FromMeta for DefaultExpr {
    fn from_expr(expr: &Expr) -> darling::Result<Self> {
        Ok(DefaultExpr(expr.clone()))
    }

    fn from_word() -> darling::Result<Self> {
        Err(darling::Error::custom(
            "expected a value after `=`, e.g. `default = 0`",
        ))
    }
}

#[derive(FromDeriveInput)]
#[darling(forward_attrs(table, index, foreign_key, primary_key, unique, column, soft_delete))]
struct Input {
    ident: Ident,
    vis: syn::Visibility,
    generics: syn::Generics,
    data: ast::Data<Ignored, FieldInput>,
    attrs: Vec<Attribute>,
}

#[derive(FromField)]
#[darling(forward_attrs(table, index, foreign_key, primary_key, unique, column, soft_delete))]
struct FieldInput {
    ident: Option<Ident>,
    vis: syn::Visibility,
    ty: Type,
    attrs: Vec<Attribute>,
}

const TABLE_KEYS: &[&str] = &["name", "primary_key", "rename_all", "crate", "deletion"];
const INDEX_KEYS: &[&str] = &["name", "sql_name", "columns", "unique"];
const STRUCT_FOREIGN_KEY_KEYS: &[&str] = &[
    "columns",
    "references",
    "on_delete",
    "on_update",
    "index",
    "unindexed",
    "name",
    "native",
];
const FIELD_FOREIGN_KEY_KEYS: &[&str] = &[
    "references",
    "on_delete",
    "on_update",
    "index",
    "unindexed",
    "name",
    "native",
];
const COLUMN_KEYS: &[&str] = &["name", "default"];

/// Parses the derive input. `None` when it is not a struct with named fields
/// and no generics (the error says why); otherwise every attribute that parsed.
pub fn table(input: &syn::DeriveInput, errors: &mut Errors) -> Option<RawTable> {
    let input = match Input::from_derive_input(input) {
        Ok(input) => input,
        Err(error) => {
            errors.push(error);
            return None;
        }
    };
    let shape = "`#[derive(Table)]` needs a struct with named fields: one field per column";
    let fields = match input.data {
        ast::Data::Struct(fields) if fields.style == ast::Style::Struct => fields.fields,
        ast::Data::Struct(_) | ast::Data::Enum(_) => {
            errors.push(darling::Error::custom(shape).with_span(&input.ident));
            return None;
        }
    };
    if let Some(param) = input.generics.params.first() {
        errors.push(
            darling::Error::custom(
                "a table cannot be generic: its columns and keys must be known to the derive",
            )
            .with_span(param),
        );
        return None;
    }

    let mut raw = RawTable {
        ident: input.ident,
        vis: input.vis,
        table: TableAttr::default(),
        indexes: Vec::new(),
        foreign_keys: Vec::new(),
        fields: Vec::new(),
        broken: Broken::default(),
    };
    let mut table_seen = false;
    for attr in &input.attrs {
        let name = attr_name(attr);
        match name.as_str() {
            "table" => {
                if table_seen {
                    errors.push(
                        darling::Error::custom(
                            "`#[table(...)]` appears twice: merge its keys into one attribute",
                        )
                        .with_span(attr.path()),
                    );
                    continue;
                }
                table_seen = true;
                match parse_attr::<TableAttr>(attr, TABLE_KEYS, errors) {
                    Some(table) => raw.table = table,
                    None => raw.broken.table = true,
                }
            }
            "index" => match parse_attr::<IndexAttr>(attr, INDEX_KEYS, errors) {
                Some(mut index) => {
                    index.span = Some(attr.path().span());
                    raw.indexes.push(index);
                }
                None => raw.broken.index = true,
            },
            "foreign_key" => {
                match parse_attr::<ForeignKeyAttr>(attr, STRUCT_FOREIGN_KEY_KEYS, errors) {
                    Some(fk) => raw.foreign_keys.push((attr.path().span(), fk)),
                    None => raw.broken.foreign_key = true,
                }
            }
            "primary_key" => errors.push(
                darling::Error::custom(
                    "`#[primary_key]` goes on a field; for a composite key write `#[table(primary_key(a, b))]` on the struct",
                )
                .with_span(attr.path()),
            ),
            "unique" => errors.push(
                darling::Error::custom(
                    "`#[unique]` goes on a field; for a composite unique key write `#[index(unique, columns(a, b))]` on the struct",
                )
                .with_span(attr.path()),
            ),
            "soft_delete" | "column" => errors.push(
                darling::Error::custom(format!("`#[{name}]` goes on a field, not on the struct"))
                    .with_span(attr.path()),
            ),
            _ => {}
        }
    }

    for field in fields {
        let Some(ident) = field.ident else { continue };
        let mut parsed = RawField {
            ident,
            vis: field.vis,
            ty: field.ty,
            primary_key: None,
            unique: None,
            soft_delete: None,
            column: ColumnAttr::default(),
            foreign_keys: Vec::new(),
        };
        let mut column_seen = false;
        for attr in &field.attrs {
            let name = attr_name(attr);
            match name.as_str() {
                "primary_key" => {
                    if word_attr(
                        attr,
                        "for a composite key write `#[table(primary_key(a, b))]` on the struct",
                        errors,
                    ) {
                        parsed.primary_key = Some(attr.path().span());
                    } else {
                        raw.broken.table = true;
                    }
                }
                "unique" => {
                    if word_attr(
                        attr,
                        "for a composite unique key write `#[index(unique, columns(a, b))]` on the struct",
                        errors,
                    ) {
                        parsed.unique = Some(attr.path().span());
                    } else {
                        raw.broken.index = true;
                    }
                }
                "soft_delete"
                    if word_attr(attr, "the field itself holds the deletion time", errors) =>
                {
                    parsed.soft_delete = Some(attr.path().span());
                }
                "column" => {
                    if column_seen {
                        errors.push(
                            darling::Error::custom(
                                "`#[column(...)]` appears twice: merge its keys into one attribute",
                            )
                            .with_span(attr.path()),
                        );
                        continue;
                    }
                    column_seen = true;
                    if let Some(column) = parse_attr::<ColumnAttr>(attr, COLUMN_KEYS, errors) {
                        parsed.column = column;
                    }
                }
                "foreign_key" => {
                    match parse_attr::<ForeignKeyAttr>(attr, FIELD_FOREIGN_KEY_KEYS, errors) {
                        Some(fk) => parsed.foreign_keys.push((attr.path().span(), fk)),
                        None => raw.broken.foreign_key = true,
                    }
                }
                "table" | "index" => errors.push(
                    darling::Error::custom(format!(
                        "`#[{name}(...)]` goes on the struct, not on a field{}",
                        if name == "index" {
                            "; for a one-column unique key write `#[unique]` on the field"
                        } else {
                            ""
                        }
                    ))
                    .with_span(attr.path()),
                ),
                _ => {}
            }
        }
        raw.fields.push(parsed);
    }
    Some(raw)
}

fn attr_name(attr: &Attribute) -> String {
    attr.path()
        .get_ident()
        .map(ToString::to_string)
        .unwrap_or_default()
}

/// `#[primary_key]`, `#[unique]`, `#[soft_delete]`: a bare attribute.
fn word_attr(attr: &Attribute, hint: &str, errors: &mut Errors) -> bool {
    if let Meta::Path(_) = attr.meta {
        return true;
    }
    let name = attr_name(attr);
    errors.push(
        darling::Error::custom(format!("`#[{name}]` takes no arguments; {hint}"))
            .with_span(&attr.meta),
    );
    false
}

/// Parses a list attribute with darling after checking its keys against
/// `accepted`, so that an unknown key is reported with the attribute it was
/// found in and the keys it accepts. `None` if a value failed to parse.
fn parse_attr<T: FromMeta>(attr: &Attribute, accepted: &[&str], errors: &mut Errors) -> Option<T> {
    let name = attr_name(attr);
    let list = match &attr.meta {
        Meta::List(list) => list,
        _ => {
            errors.push(
                darling::Error::custom(format!(
                    "`#[{name}]` needs arguments: `#[{name}(...)]` with keys {}",
                    list_keys(accepted)
                ))
                .with_span(&attr.meta),
            );
            return None;
        }
    };
    let items = match NestedMeta::parse_meta_list(list.tokens.clone()) {
        Ok(items) => items,
        Err(error) => {
            errors.push(error.into());
            return None;
        }
    };
    for item in &items {
        let path = match item {
            NestedMeta::Meta(meta) => meta.path(),
            NestedMeta::Lit(lit) => {
                errors.push(
                    darling::Error::custom(format!(
                        "expected `key = value` or a key in `#[{name}(...)]`, found a literal; the keys are {}",
                        list_keys(accepted)
                    ))
                    .with_span(lit),
                );
                continue;
            }
            NestedMeta::NameValueInvalidExpr(meta) => &meta.path,
        };
        let key = path
            .get_ident()
            .map(ToString::to_string)
            .unwrap_or_default();
        if !accepted.contains(&key.as_str()) {
            let written = darling::util::path_to_string(path);
            let message = if name == "foreign_key" && key == "columns" {
                "`columns` is not accepted on a field: the field is the column; to list several columns, put the `#[foreign_key(columns(...), ...)]` on the struct".to_owned()
            } else {
                format!(
                    "unknown key `{written}` in `#[{name}(...)]`{}; the keys are {}",
                    did_you_mean(&written, accepted),
                    list_keys(accepted)
                )
            };
            errors.push(darling::Error::custom(message).with_span(path));
        }
    }
    // Unknown keys are reported above; what darling parsed of the rest is
    // kept, so that the checks of the attribute's other keys still run.
    errors.handle(T::from_list(&items).map_err(|error| error.with_span(&attr.meta)))
}

/// `` `a`, `b`, `c` ``
pub fn list_keys(keys: &[&str]) -> String {
    keys.iter()
        .map(|key| format!("`{key}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `` "; did you mean `on_delete`?" `` when a candidate is close enough.
pub fn did_you_mean(written: &str, candidates: &[&str]) -> String {
    candidates
        .iter()
        .map(|candidate| (strsim::jaro_winkler(written, candidate), candidate))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, candidate)| format!(" (did you mean `{candidate}`?)"))
        .unwrap_or_default()
}
