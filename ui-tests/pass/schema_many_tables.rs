// `schema![...]` finds every foreign key's target among many tables, listed
// in any order (it searches the names by hash: this exercises the search).

use cascadia::{Id, Schema, Table, schema};

macro_rules! tables {
    ($($table:ident -> $target:ident),* $(,)?) => {$(
        #[derive(Table)]
        #[index(columns(target))]
        pub struct $table {
            #[primary_key]
            pub id: i64,
            pub target: Option<Id<$target>>,
        }
    )*};
}

tables! {
    Alpha -> Lima, Bravo -> Alpha, Charlie -> Bravo, Delta -> Kilo,
    Echo -> Echo, Foxtrot -> Delta, Golf -> Hotel, Hotel -> Golf,
    India -> Charlie, Juliett -> Foxtrot, Kilo -> India, Lima -> Juliett,
}

static SCHEMA: Schema = schema![
    Kilo, Echo, Alpha, Lima, Golf, Charlie, Juliett, Bravo, India, Hotel, Foxtrot, Delta,
];

fn main() {
    assert_eq!(SCHEMA.tables().count(), 12);
    assert_eq!(SCHEMA.table("kilo").unwrap().foreign_keys[0].referenced_table, "india");
}
