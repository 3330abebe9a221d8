//! Unit tests of the stages, through the `proc_macro2` entry point and the
//! model: implicit/explicit foreign-key de-duplication, the choice of the
//! serving index, and error accumulation. The expansion's behaviour as Rust
//! is tested in `ui-tests/` and the facade's `tests/derive_*.rs`.

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::parse_quote;

use super::model::{self, Serving};
use super::{Errors, derive, parse};

/// The expansion as text, with the spacing of `TokenStream::to_string`.
fn expand(input: syn::DeriveInput) -> String {
    derive(input.to_token_stream()).to_string()
}

/// The messages of the `compile_error!`s in an expansion.
fn errors(input: syn::DeriveInput) -> Vec<String> {
    let output: TokenStream = derive(input.to_token_stream());
    let text = output.to_string();
    text.split("compile_error !")
        .skip(1)
        .map(|rest| {
            let start = rest.find('"').expect("a message") + 1;
            let end = rest[start..].find("\" }").expect("the end of the message") + start;
            rest[start..end].replace("\\\"", "\"")
        })
        .collect()
}

fn model(input: &syn::DeriveInput) -> (Option<model::Table>, Errors) {
    let mut errors = darling::Error::accumulator();
    let table = parse::table(input, &mut errors).map(|raw| model::build(raw, &mut errors));
    (table, errors)
}

#[test]
fn explicit_foreign_key_replaces_the_implicit_one_of_its_id_field() {
    let input: syn::DeriveInput = parse_quote! {
        #[index(columns(team_id))]
        #[index(columns(mentor_id))]
        struct Member {
            #[primary_key]
            id: i64,
            #[foreign_key(references = Team, on_delete = cascade)]
            team_id: Id<Team>,
            mentor_id: Option<Id<Member>>,
        }
    };
    let (table, errors) = model(&input);
    errors.finish().unwrap();
    let table = table.unwrap();
    let live: Vec<_> = table.live_foreign_keys().collect();
    assert_eq!(live.len(), 2, "one key per (columns, target)");
    let team = live.iter().find(|fk| fk.columns == [1]).unwrap();
    assert!(!team.implicit, "the explicit key is kept, with its action");
    assert_eq!(team.on_delete, super::parse::Action::Cascade);
    let mentor = live.iter().find(|fk| fk.columns == [2]).unwrap();
    assert!(mentor.implicit);

    let expanded = expand(input);
    assert!(!expanded.contains("compile_error"), "{expanded}");
    assert_eq!(expanded.matches("__cascadia :: id_foreign_key").count(), 2);
    assert_eq!(expanded.matches("Action :: Cascade").count(), 1);
}

#[test]
fn same_target_through_self_or_a_qualified_path_is_the_same_key() {
    let input: syn::DeriveInput = parse_quote! {
        #[index(columns(parent))]
        #[index(columns(team))]
        struct Node {
            #[primary_key]
            id: i64,
            #[foreign_key(references = Self, on_delete = cascade)]
            parent: Option<Id<Node>>,
            #[foreign_key(references = self::Team)]
            team: Id<Team>,
        }
    };
    let (table, errors) = model(&input);
    errors.finish().unwrap();
    assert_eq!(table.unwrap().live_foreign_keys().count(), 2);
}

#[test]
fn explicit_key_to_another_table_than_the_id_type_conflicts() {
    let messages = errors(parse_quote! {
        #[index(columns(mentor_id))]
        struct Member {
            #[primary_key]
            id: i64,
            #[foreign_key(references = Team)]
            mentor_id: Option<Id<Member>>,
        }
    });
    assert_eq!(messages.len(), 2, "{messages:#?}");
    assert!(messages[0].starts_with("conflicting foreign keys on `member.mentor_id`"));
}

#[test]
fn two_explicit_keys_on_one_column_set_are_reported_at_both() {
    let messages = errors(parse_quote! {
        #[foreign_key(columns(b, a), references = Other)]
        #[index(columns(a, b))]
        #[index(columns(c))]
        struct T {
            #[primary_key]
            id: i64,
            a: i64,
            b: i64,
            #[foreign_key(references = Other)]
            c: i64,
        }
    });
    assert!(messages.is_empty(), "{messages:#?}");
    let messages = errors(parse_quote! {
        #[foreign_key(columns(b, a), references = Other)]
        #[foreign_key(columns(a, b), references = Another)]
        #[index(columns(a, b))]
        struct T {
            #[primary_key]
            id: i64,
            a: i64,
            b: i64,
        }
    });
    assert_eq!(messages.len(), 2, "{messages:#?}");
    assert!(messages[0].starts_with("a second foreign key on `t(a, b)`"));
    assert!(messages[1].starts_with("the first foreign key on `t(a, b)`"));
}

/// The serving index of each foreign key of a struct, in declaration order.
fn serving(input: &syn::DeriveInput) -> Vec<Serving> {
    let (table, errors) = model(input);
    errors.finish().unwrap();
    table
        .unwrap()
        .foreign_keys
        .iter()
        .map(|fk| fk.serving)
        .collect()
}

#[test]
fn the_shortest_serving_index_is_chosen_primary_key_first_on_a_tie() {
    let input: syn::DeriveInput = parse_quote! {
        #[table(primary_key(org, code))]
        #[index(name = "long", columns(team, joined, role))]
        #[index(name = "short", columns(team, joined))]
        #[index(name = "same_length", columns(team, role))]
        #[index(name = "reordered", columns(code, org, extra))]
        #[foreign_key(columns(team), references = Team)]
        #[foreign_key(columns(org, code), references = Org)]
        #[foreign_key(columns(org), references = Org2)]
        #[foreign_key(columns(role), references = Role, unindexed)]
        #[foreign_key(columns(code), references = Code, index = "reordered")]
        struct T {
            org: i64,
            code: String,
            team: i64,
            joined: i64,
            role: i64,
            extra: i64,
        }
    };
    assert_eq!(
        serving(&input),
        [
            // `short` and `same_length` tie at 2 columns: the first declared.
            Serving::Index(1),
            // The primary key (org, code) ties with nothing shorter.
            Serving::PrimaryKey,
            Serving::PrimaryKey,
            Serving::Unindexed,
            // (code, org, extra) starts with {code}.
            Serving::Index(3),
        ]
    );
}

#[test]
fn the_prefix_rule_is_a_set_equality_on_the_first_columns() {
    assert!(model::serves(&[1, 0, 2], &[0, 1]));
    assert!(model::serves(&[0], &[0]));
    assert!(
        !model::serves(&[0, 2, 1], &[0, 1]),
        "column 1 is not among the first two"
    );
    assert!(!model::serves(&[1], &[0, 1]), "shorter than the key");
    assert!(!model::serves(&[1, 0], &[0]), "not the first column");
}

#[test]
fn a_unique_field_and_a_named_index_serve_and_a_bad_name_does_not() {
    let input: syn::DeriveInput = parse_quote! {
        #[index(name = "by_b_a", columns(b, a))]
        struct T {
            #[primary_key]
            id: i64,
            #[unique]
            #[foreign_key(references = U)]
            a: i64,
            #[foreign_key(references = U, index = "by_b_a")]
            b: i64,
            #[foreign_key(references = U, index = "by_b_a")]
            c: i64,
            #[foreign_key(references = U, index = "nowhere")]
            d: i64,
        }
    };
    assert_eq!(
        serving(&input),
        [
            Serving::Index(1),
            Serving::Index(0),
            Serving::CannotServe(0),
            Serving::UnknownName,
        ]
    );
}

#[test]
fn all_errors_of_a_struct_come_together_from_every_stage() {
    let messages = errors(parse_quote! {
        #[table(nmae = "members")]
        #[index(columns(team_id, joined))]
        struct Member {
            #[primary_key]
            id: i64,
            #[foreign_key(references = Team, on_delete = set_null)]
            team_id: Id<Team>,
            #[foreign_key(references = Team, on_delete = cascade)]
            previous_team: Id<Team>,
            #[foreign_key(references = Team, on_delete = set_default, on_update = cascde)]
            next_team: i64,
        }
    });
    let expected = [
        "unknown key `nmae` in `#[table(...)]` (did you mean `name`?)",
        "unknown action `cascde` (did you mean `cascade`?)",
        "`Member` has no field `joined`; columns are named after the struct's fields",
        "`set_null` needs nullable columns, but `member.team_id` has type `Id<Team>`",
        "foreign key `member(previous_team)` has no index",
    ];
    assert_eq!(messages.len(), expected.len(), "{messages:#?}");
    for (message, expected) in messages.iter().zip(expected) {
        assert!(
            message.starts_with(expected),
            "{message:?} should start with {expected:?}"
        );
    }
}

#[test]
fn a_failed_derive_still_implements_table() {
    let expanded = expand(parse_quote! {
        struct Team {
            id: i64,
        }
    });
    assert!(expanded.contains("compile_error !"));
    assert!(expanded.contains("use :: cascadia :: __private as __cascadia"));
    assert!(expanded.contains("impl __cascadia :: Table for Team"));
    assert!(expanded.contains("type PrimaryKey = __cascadia :: Unknown"));
}

#[test]
fn attributes_in_the_wrong_place_name_the_right_one() {
    let messages = errors(parse_quote! {
        #[unique]
        struct Team {
            #[primary_key]
            id: i64,
            #[index(columns(id))]
            #[soft_delete(now)]
            deleted: Option<i64>,
        }
    });
    assert_eq!(messages.len(), 3, "{messages:#?}");
    assert!(messages[0].starts_with("`#[unique]` goes on a field"));
    assert!(messages[1].starts_with("`#[index(...)]` goes on the struct, not on a field"));
    assert!(messages[2].starts_with("`#[soft_delete]` takes no arguments"));
}

#[test]
fn defaults_name_and_index_are_derived_from_sql_names() {
    let input: syn::DeriveInput = parse_quote! {
        #[index(columns(role, r#type))]
        struct TeamMember {
            #[primary_key]
            id: i64,
            #[column(name = "role_code")]
            role: i32,
            r#type: String,
            #[unique]
            #[column(name = "slug_text")]
            slug: String,
        }
    };
    let (table, errors) = model(&input);
    errors.finish().unwrap();
    let table = table.unwrap();
    assert_eq!(table.name, "team_member");
    let names: Vec<&str> = table
        .indexes
        .iter()
        .map(|index| index.name.as_str())
        .collect();
    assert_eq!(names, ["by_role_code_type", "by_slug_text"]);
    assert!(table.indexes[1].unique);
}

#[test]
fn generated_names_shadow_nothing_the_fields_mention() {
    let input: syn::DeriveInput = parse_quote! {
        struct Team {
            #[primary_key]
            id: i64,
            kind: TeamIndexes::Kind,
            #[column(default = TeamByPrimaryKey::DEFAULT)]
            size: i32,
        }
    };
    let (table, errors) = model(&input);
    errors.finish().unwrap();
    let names = table.unwrap().names;
    let span = proc_macro2::Span::call_site();
    assert_eq!(names.item("Indexes", span), "TeamIndexes_");
    assert_eq!(names.item("ByPrimaryKey", span), "TeamByPrimaryKey_");
    assert_eq!(names.item("SoftDelete", span), "TeamSoftDelete");
}

#[test]
fn crate_path_is_a_path_not_a_string() {
    let input: syn::DeriveInput = parse_quote! {
        #[table(crate = renamed::cascadia)]
        struct Team {
            #[primary_key]
            id: i64,
        }
    };
    let (table, accumulated) = model(&input);
    accumulated.finish().unwrap();
    let krate = table.unwrap().krate;
    assert_eq!(krate.to_token_stream().to_string(), "renamed :: cascadia");
    assert!(expand(input).contains("use renamed :: cascadia :: __private as __cascadia"));

    let messages = errors(parse_quote! {
        #[table(crate = "renamed")]
        struct Team {
            #[primary_key]
            id: i64,
        }
    });
    assert_eq!(
        messages,
        ["write the path without quotes: `crate = renamed`"]
    );
}

#[test]
fn actions_are_bare_idents_and_references_are_paths_or_calls() {
    use darling::FromMeta;

    use super::parse::{Action, ActionValue, Reference};

    let action = |expr: syn::Expr| ActionValue::from_expr(&expr).map(|value| value.action);
    assert_eq!(action(parse_quote!(cascade)).unwrap(), Action::Cascade);
    assert_eq!(action(parse_quote!(no_action)).unwrap(), Action::NoAction);
    assert_eq!(
        action(parse_quote!(set_default)).unwrap(),
        Action::SetDefault
    );
    let error = action(parse_quote!("cascade")).unwrap_err().to_string();
    assert_eq!(error, "write the action without quotes: `cascade`");
    let error = action(parse_quote!(Cascade)).unwrap_err().to_string();
    assert!(
        error.starts_with("unknown action `Cascade` (did you mean `cascade`?)"),
        "{error}"
    );

    let reference = |expr: syn::Expr| Reference::from_expr(&expr);
    let plain = reference(parse_quote!(Team)).unwrap();
    assert_eq!(plain.table.to_token_stream().to_string(), "Team");
    assert!(plain.columns.is_none());
    let named = reference(parse_quote!(crate::teams::Team(org_id, code))).unwrap();
    assert_eq!(
        named.table.to_token_stream().to_string(),
        "crate :: teams :: Team"
    );
    let columns: Vec<String> = named
        .columns
        .unwrap()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(columns, ["org_id", "code"]);
    assert!(reference(parse_quote!(Team("id"))).is_err());
    assert!(reference(parse_quote!(Team())).is_err());
    assert!(reference(parse_quote!("Team")).is_err());
}
