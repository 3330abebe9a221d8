//! The index-backed tests' workloads, run on every SQL store: what they
//! do decides which statements the stores prepare, and so what the tests
//! check.
#![allow(dead_code)]

use cascadia::{
    Budget, ColumnRange, Database, DeleteOptions, ExplainOptions, IndexRange, IndexRef,
    IntegrityOptions, UpdateOptions, Value, Worker,
};

use super::generate::{Case, Op};
use super::{int, text};

/// On a database of `teams_schema()`: members with and without a mentor,
/// pages of a range and of a prefix, resumed, NULLs in resume positions,
/// lookups by unique and primary key, a key update that cascades, a delete.
pub fn typed(db: &Database) {
    db.insert_row("teams", vec![int(1), text("a")])
        .expect("team");
    for id in 0..20 {
        let mentor = if id % 3 == 0 { Value::Null } else { int(0) };
        db.insert_row(
            "members",
            vec![int(id), int(1), mentor, text(&format!("m{id:02}"))],
        )
        .expect("member");
    }
    let by_team = IndexRange {
        table: "members".into(),
        index: IndexRef::Index("by_team".into()),
        prefix: vec![int(1)],
        range: Some(ColumnRange {
            lower: std::ops::Bound::Excluded(text("m03")),
            upper: std::ops::Bound::Included(text("m15")),
        }),
    };
    db.read(|tx| {
        for range in [
            by_team.clone(),
            IndexRange {
                range: None,
                ..by_team.clone()
            },
        ] {
            let mut after = None;
            loop {
                let page = tx.scan_rows(&range, after.as_ref(), 4)?;
                match page.next {
                    Some(next) => after = Some(next),
                    None => break,
                }
            }
        }
        // Resume positions holding a NULL after the prefix.
        let by_team_mentor = IndexRange {
            table: "members".into(),
            index: IndexRef::Index("by_team_mentor".into()),
            prefix: vec![int(1)],
            range: None,
        };
        let mut after = None;
        let mut seen = 0;
        loop {
            let page = tx.scan_rows(&by_team_mentor, after.as_ref(), 3)?;
            seen += page.rows.len();
            match page.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
        assert_eq!(seen, 20, "every member is seen once across pages");
        let by_slug = IndexRange {
            table: "teams".into(),
            index: IndexRef::Index("by_slug".into()),
            prefix: vec![text("a")],
            range: None,
        };
        let _ = tx.scan_rows(&by_slug, None, 1)?;
        let _ = tx.get_row("members", &[int(3)])?;
        Ok::<_, cascadia::Error>(())
    })
    .expect("reads");
    db.update_row("teams", &[int(1)], vec![int(2), text("b")])
        .expect("key update cascades to members");
    db.delete_rows("teams", &[vec![int(2)]], &DeleteOptions::default())
        .expect("delete cascades");
}

/// The generated case's operation, as the differential tests run it but
/// with tiny budgets (batches resume scans of many parents at once), also
/// explained, queued and drained by a worker; then an integrity audit, and
/// every row inserted again (each foreign key and unique key checked).
pub fn generated(db: &Database, case: &Case) {
    let tables: Vec<String> = case.schema.tables().map(|t| t.name.to_string()).collect();
    match &case.op {
        Op::Delete { table, keys } => {
            let _ = db.explain_delete_rows(&tables[*table], keys, &ExplainOptions::default());
            // Rows only, or with a byte limit too: stores read the rows'
            // sizes only under one.
            let mut budget = Budget::UNLIMITED.rows_written(2).rows_read(5);
            if case.batch_rows == 2 {
                budget = budget.bytes_written(10_000);
            }
            let options = DeleteOptions::default()
                .batch_rows(case.batch_rows)
                .budget(budget);
            if case.batch_rows == 1 {
                let _ = db.enqueue_delete_rows(&tables[*table], keys, &options);
                let _ = Worker::new(db.clone()).run_until_idle();
            } else {
                let _ = db.delete_rows(&tables[*table], keys, &options);
            }
        }
        Op::Update { table, key, row } => {
            let _ = db.write(|tx| {
                tx.update_row(&tables[*table], key, row.clone(), &UpdateOptions::default())
            });
        }
    }
    let _ = db.check_integrity(&IntegrityOptions::default().batch_rows(2));
    for (table, rows) in tables.iter().zip(&case.rows) {
        for row in rows {
            let _ = db.insert_row(table, row.clone());
        }
    }
}
