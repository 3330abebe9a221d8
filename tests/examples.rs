//! The examples run end to end on real input, and print the figures the
//! issues and the Chinook data's README give. They run through `cargo run`
//! (the same command as the README's), so this also proves they build.

use std::process::Command;

/// Runs `cargo run --example <name> -- <args>` and returns its stdout; fails
/// the test with the example's output when it exits with an error.
fn run_example(name: &str, args: &[&str]) -> String {
    let output = Command::new(env!("CARGO"))
        .args(["run", "--quiet", "--example", name, "--"])
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "example {name} failed ({}):\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// The block of output under the `== <title>` line.
fn section<'a>(output: &'a str, title: &str) -> &'a str {
    let start = output
        .find(&format!("== {title}\n"))
        .unwrap_or_else(|| panic!("no section `{title}` in:\n{output}"));
    let rest = &output[start + title.len() + 4..];
    &rest[..rest.find("\n== ").unwrap_or(rest.len())]
}

#[test]
fn chinook_example_matches_sqlite_native_actions() {
    let output = run_example("chinook", &[]);

    let artist_275 = section(&output, "DELETE FROM Artist WHERE ArtistId = 275");
    assert!(
        artist_275.contains("rows changed besides the root: cascadia 7, SQLite 7"),
        "{artist_275}"
    );

    let genre_1 = section(&output, "DELETE FROM Genre WHERE GenreId = 1");
    let track_line = genre_1
        .lines()
        .find(|line| line.trim_start().starts_with("Track "))
        .unwrap_or_default();
    assert_eq!(
        track_line.split_whitespace().collect::<Vec<_>>(),
        ["Track", "0", "/", "1297", "0", "/", "1297"],
        "{genre_1}"
    );

    let playlist_1 = section(&output, "DELETE FROM Playlist WHERE PlaylistId = 1");
    assert!(
        playlist_1.contains("rows changed besides the root: cascadia 3290, SQLite 3290"),
        "{playlist_1}"
    );
    // Batched: 3,291 rows in transactions of at most 1,000 rows.
    assert!(
        playlist_1.contains("cascadia committed 4 transaction(s)"),
        "{playlist_1}"
    );

    let artist_1 = section(&output, "DELETE FROM Artist WHERE ArtistId = 1");
    assert!(
        artist_1.contains(
            "refused by cascadia: cannot delete Artist 1 (it cascades to Album 1, then Track 1): \
             RESTRICT on InvoiceLine(TrackId) → Track: InvoiceLine 579 references Track 1"
        ),
        "{artist_1}"
    );
    assert!(
        artist_1.contains("refused by SQLite:   FOREIGN KEY constraint failed"),
        "{artist_1}"
    );

    let update = section(
        &output,
        "UPDATE Artist SET ArtistId = 1000 WHERE ArtistId = 1",
    );
    assert!(
        update.contains("rows changed besides the root: cascadia 2, SQLite 2"),
        "{update}"
    );

    assert_eq!(
        output.matches("databases identical: yes").count(),
        6,
        "{output}"
    );
    assert!(
        output.contains("all operations: cascadia and SQLite agree, databases identical"),
        "{output}"
    );
}

#[test]
fn chinook_example_exports_the_graph_with_actions() {
    let mermaid = run_example("chinook", &["--graph", "mermaid"]);
    assert!(mermaid.starts_with("flowchart LR"), "{mermaid}");
    assert_eq!(
        mermaid.matches("-->").count(),
        11,
        "one edge per foreign key:\n{mermaid}"
    );
    assert!(
        mermaid.contains("TrackId → TrackId<br/>ON DELETE RESTRICT<br/>ON UPDATE CASCADE"),
        "{mermaid}"
    );

    let dot = run_example("chinook", &["--graph", "dot"]);
    assert!(dot.starts_with("digraph schema {"), "{dot}");
    assert_eq!(dot.matches(" -> ").count(), 11, "{dot}");
    assert!(dot.contains("ON DELETE SET NULL"), "{dot}");
}

#[test]
fn quickstart_refuses_then_cascades_in_batches_without_orphans() {
    let output = run_example("quickstart", &[]);
    assert!(
        output.contains(
            "refused: cannot delete teams 2: RESTRICT on invoices(team_id) → teams: invoices 1 references it"
        ),
        "{output}"
    );
    assert!(
        output.contains("explain: 22001 rows to delete, 200 to update, refused by nothing: true"),
        "{output}"
    );
    assert!(
        output.contains("22001 rows deleted, 200 mentors set to NULL"),
        "{output}"
    );
    assert!(
        output.contains("23 transactions, the largest writing 1000 rows"),
        "{output}"
    );
    let table: Vec<Vec<&str>> = output
        .lines()
        .map(|line| line.split_whitespace().collect())
        .filter(|words: &Vec<&str>| {
            words.len() == 3 && ["teams", "members", "posts", "invoices"].contains(&words[0])
        })
        .collect();
    assert_eq!(
        table,
        [
            ["teams", "3", "2"],
            ["members", "6000", "4000"],
            ["posts", "20000", "0"],
            ["invoices", "1", "1"]
        ],
        "{output}"
    );
    assert!(
        output.contains("integrity: 0 orphans in 4 foreign keys"),
        "{output}"
    );
}

#[test]
fn code_graph_example_cleans_orphans_then_cascades_deletes_and_renames() {
    let output = run_example("code_graph", &[]);

    let orphans = section(
        &output,
        "orphans per foreign key (Database::check_integrity)",
    );
    let counts: Vec<(String, u64)> = orphans
        .lines()
        .filter_map(|line| {
            let (name, count) = line.trim().rsplit_once(' ')?;
            Some((name.trim().to_owned(), count.parse().ok()?))
        })
        .collect();
    assert_eq!(
        counts,
        [
            ("annotations(fqn) → symbols".to_owned(), 1),
            ("edges(from_fqn) → symbols".to_owned(), 108),
            ("edges(to_fqn) → symbols".to_owned(), 93),
            ("entry_points(fqn) → symbols".to_owned(), 1),
            ("references_(fqn) → symbols".to_owned(), 14),
            ("summaries(fqn) → symbols".to_owned(), 10),
            ("tags(fqn) → symbols".to_owned(), 9),
        ],
        "{orphans}"
    );
    assert!(orphans.contains("in all: 236 orphan(s)"), "{orphans}");

    let clean_up = section(
        &output,
        "clean-up: the orphan rows deleted in batches (as `cascadia orphans DB --fix delete`)",
    );
    // An edge whose two ends were deleted is one row.
    assert!(
        clean_up.contains("edges           200 row(s) deleted"),
        "{clean_up}"
    );
    assert!(clean_up.contains("orphans left: 0"), "{clean_up}");

    let delete = section(
        &output,
        "delete symbol core::log::debug (ON DELETE CASCADE, at most 250 rows per transaction)",
    );
    let batches: Vec<u64> = delete
        .lines()
        .filter_map(|line| line.trim().strip_prefix("batch "))
        .map(|rest| {
            let written = rest.split(':').nth(1).unwrap_or_default();
            written
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .parse()
                .unwrap()
        })
        .collect();
    assert_eq!(batches, [250, 250, 250, 250, 250, 248], "{delete}");
    assert!(
        delete.contains(
            "deleted: 1 symbol, 1490 edges, 1 summary, 1 entry point, 2 references, 2 tags, 1 annotation"
        ),
        "{delete}"
    );

    let rename = section(
        &output,
        "rename crate6::module35::item300 → graph::core::render_node (update_key, ON UPDATE CASCADE)",
    );
    assert!(
        rename.contains(
            "rows rewritten: annotations 1, edges 6, entry_points 1, references_ 2, summaries 1, symbols 1, tags 2"
        ),
        "{rename}"
    );
    assert!(
        rename.contains("naming the old name: 6 before, 0 after; naming the new one: 6"),
        "{rename}"
    );
    assert!(
        output.contains("== integrity: 0 orphans in 7 foreign keys"),
        "{output}"
    );
}
