use cascadia::Table;

// A soft mode with no `#[soft_delete]` column.
#[derive(Table)]
#[table(deletion = soft)]
pub struct Note {
    #[primary_key]
    pub id: i64,
}

// A misspelt mode, and a scheduled mode without its delay.
#[derive(Table)]
#[table(deletion = sof_cascade)]
pub struct Draft {
    #[primary_key]
    pub id: i64,
    #[soft_delete]
    pub deleted_at: Option<i64>,
}

#[derive(Table)]
#[table(deletion = scheduled)]
pub struct Scrap {
    #[primary_key]
    pub id: i64,
    #[soft_delete]
    pub deleted_at: Option<i64>,
}

// A unit that does not exist.
#[derive(Table)]
#[table(deletion = scheduled(weeks = 2))]
pub struct Memo {
    #[primary_key]
    pub id: i64,
    #[soft_delete]
    pub deleted_at: Option<i64>,
}

fn main() {}
