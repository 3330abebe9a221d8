//! Transactions fail with the application's own error type: a business rule
//! checked inside `Database::write` aborts the transaction, nothing it wrote
//! is kept, and the caller gets the rule's error back as the application's
//! type, not as a cascadia error. Run on a SQLite file, as an application
//! would.

use std::path::PathBuf;

use cascadia::{Database, Id, Schema, SqliteOptions, SqliteStore, Table, schema};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Table, Serialize, Deserialize)]
#[table(name = "accounts")]
struct Account {
    #[primary_key]
    id: i64,
    balance: i64,
}

#[derive(Debug, Clone, PartialEq, Table, Serialize, Deserialize)]
#[table(name = "transfers")]
#[index(columns(from_account))]
#[index(columns(to_account))]
struct Transfer {
    #[primary_key]
    id: i64,
    #[foreign_key(references = Account, on_delete = cascade)]
    from_account: Id<Account>,
    #[foreign_key(references = Account, on_delete = cascade)]
    to_account: Id<Account>,
    amount: i64,
}

static SCHEMA: Schema = schema![Account, Transfer];

/// The application's error: a business rule, or the database's.
#[derive(Debug)]
enum BankError {
    InsufficientFunds {
        account: i64,
        balance: i64,
        wanted: i64,
    },
    Database(cascadia::Error),
}

impl From<cascadia::Error> for BankError {
    fn from(error: cascadia::Error) -> Self {
        BankError::Database(error)
    }
}

/// Moves `amount` from one account to the other, recording the transfer,
/// in one transaction; refuses to overdraw.
fn transfer(db: &Database, id: i64, from: i64, to: i64, amount: i64) -> Result<(), BankError> {
    db.write(|tx| {
        // Written first, so that a refusal below must undo it.
        tx.insert(&Transfer {
            id,
            from_account: Id::new(from),
            to_account: Id::new(to),
            amount,
        })?;
        let mut source = tx.get::<Account>(&from)?.expect("source account");
        let mut target = tx.get::<Account>(&to)?.expect("target account");
        if source.balance < amount {
            return Err(BankError::InsufficientFunds {
                account: from,
                balance: source.balance,
                wanted: amount,
            });
        }
        source.balance -= amount;
        target.balance += amount;
        tx.update(&source)?;
        tx.update(&target)?;
        Ok(())
    })
}

fn file_database(name: &str) -> (Database, PathBuf) {
    let dir = std::env::temp_dir().join(format!("cascadia-app-errors-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(format!("{name}.sqlite"));
    let _ = std::fs::remove_file(&path);
    let store = SqliteStore::open(&path, SCHEMA.clone(), SqliteOptions::default()).expect("open");
    (Database::new(store), path)
}

#[test]
fn a_business_rule_error_rolls_back_and_comes_back_as_the_application_type() {
    let (db, path) = file_database("rule");
    db.insert(&Account {
        id: 1,
        balance: 100,
    })
    .expect("account 1");
    db.insert(&Account { id: 2, balance: 0 })
        .expect("account 2");

    transfer(&db, 10, 1, 2, 60).expect("a covered transfer");
    let refused = transfer(&db, 11, 1, 2, 60).expect_err("an overdraft is refused");
    match refused {
        BankError::InsufficientFunds {
            account,
            balance,
            wanted,
        } => {
            assert_eq!((account, balance, wanted), (1, 40, 60));
        }
        BankError::Database(error) => panic!("the rule's error, not a database error: {error}"),
    }

    // Nothing of the refused transaction is kept, read through a second
    // connection to the same file.
    let other = Database::new(
        SqliteStore::open(&path, SCHEMA.clone(), SqliteOptions::default()).expect("reopen"),
    );
    assert!(
        other.get::<Transfer>(&11).expect("read").is_none(),
        "the transfer row is rolled back"
    );
    assert!(other.get::<Transfer>(&10).expect("read").is_some());
    assert_eq!(
        other.get::<Account>(&1).expect("read").map(|a| a.balance),
        Some(40)
    );
    assert_eq!(
        other.get::<Account>(&2).expect("read").map(|a| a.balance),
        Some(60)
    );
}

#[test]
fn a_cascadia_error_inside_converts_into_the_application_type_and_rolls_back() {
    let (db, _path) = file_database("fk");
    db.insert(&Account {
        id: 1,
        balance: 100,
    })
    .expect("account 1");
    // Account 9 does not exist: the insert's foreign-key refusal comes back
    // through `?` as `BankError::Database`.
    let refused = transfer(&db, 12, 1, 9, 10).expect_err("a transfer to no account");
    assert!(
        matches!(
            refused,
            BankError::Database(cascadia::Error::MissingParent { .. })
        ),
        "{refused:?}"
    );
    assert!(db.get::<Transfer>(&12).expect("read").is_none());
}

#[test]
fn a_read_closure_returns_the_application_error_type() {
    let (db, _path) = file_database("read");
    db.insert(&Account { id: 1, balance: 5 })
        .expect("account 1");
    let result: Result<i64, BankError> = db.read(|tx| {
        let account = tx.get::<Account>(&1)?.expect("account");
        if account.balance < 10 {
            return Err(BankError::InsufficientFunds {
                account: 1,
                balance: account.balance,
                wanted: 10,
            });
        }
        Ok(account.balance)
    });
    assert!(matches!(
        result,
        Err(BankError::InsufficientFunds { balance: 5, .. })
    ));
}
