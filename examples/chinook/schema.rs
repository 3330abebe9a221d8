//! The Chinook schema (11 tables, 11 foreign keys) as `#[derive(Table)]`
//! structs, mapped onto Chinook's real table, column and index names, with
//! the referential actions of `Chinook_Sqlite_fk_actions.sql`: CASCADE along
//! Artist → Album → Track, Customer → Invoice → InvoiceLine and
//! Playlist/Track → PlaylistTrack; RESTRICT on InvoiceLine → Track and
//! Track → MediaType; SET NULL on Track → Genre, Employee.ReportsTo and
//! Customer.SupportRepId; ON UPDATE CASCADE everywhere.

use cascadia::{Id, Schema, Table, schema};
use serde::{Deserialize, Serialize};

#[derive(Table, Debug, Clone, Serialize, Deserialize)]
#[table(name = "Artist")]
pub struct Artist {
    #[primary_key]
    #[column(name = "ArtistId")]
    pub artist_id: i64,
    #[column(name = "Name")]
    pub name: Option<String>,
}

#[derive(Table, Debug, Clone, Serialize, Deserialize)]
#[table(name = "Album")]
#[index(name = "IFK_AlbumArtistId", columns(artist_id))]
pub struct Album {
    #[primary_key]
    #[column(name = "AlbumId")]
    pub album_id: i64,
    #[column(name = "Title")]
    pub title: String,
    #[column(name = "ArtistId")]
    #[foreign_key(references = Artist, on_delete = cascade, on_update = cascade)]
    pub artist_id: Id<Artist>,
}

#[derive(Table, Debug, Clone, Serialize, Deserialize)]
#[table(name = "Employee")]
#[index(name = "IFK_EmployeeReportsTo", columns(reports_to))]
pub struct Employee {
    #[primary_key]
    #[column(name = "EmployeeId")]
    pub employee_id: i64,
    #[column(name = "LastName")]
    pub last_name: String,
    #[column(name = "FirstName")]
    pub first_name: String,
    #[column(name = "Title")]
    pub title: Option<String>,
    #[column(name = "ReportsTo")]
    #[foreign_key(references = Employee, on_delete = set_null, on_update = cascade)]
    pub reports_to: Option<Id<Employee>>,
    #[column(name = "BirthDate")]
    pub birth_date: Option<String>,
    #[column(name = "HireDate")]
    pub hire_date: Option<String>,
    #[column(name = "Address")]
    pub address: Option<String>,
    #[column(name = "City")]
    pub city: Option<String>,
    #[column(name = "State")]
    pub state: Option<String>,
    #[column(name = "Country")]
    pub country: Option<String>,
    #[column(name = "PostalCode")]
    pub postal_code: Option<String>,
    #[column(name = "Phone")]
    pub phone: Option<String>,
    #[column(name = "Fax")]
    pub fax: Option<String>,
    #[column(name = "Email")]
    pub email: Option<String>,
}

#[derive(Table, Debug, Clone, Serialize, Deserialize)]
#[table(name = "Customer")]
#[index(name = "IFK_CustomerSupportRepId", columns(support_rep_id))]
pub struct Customer {
    #[primary_key]
    #[column(name = "CustomerId")]
    pub customer_id: i64,
    #[column(name = "FirstName")]
    pub first_name: String,
    #[column(name = "LastName")]
    pub last_name: String,
    #[column(name = "Company")]
    pub company: Option<String>,
    #[column(name = "Address")]
    pub address: Option<String>,
    #[column(name = "City")]
    pub city: Option<String>,
    #[column(name = "State")]
    pub state: Option<String>,
    #[column(name = "Country")]
    pub country: Option<String>,
    #[column(name = "PostalCode")]
    pub postal_code: Option<String>,
    #[column(name = "Phone")]
    pub phone: Option<String>,
    #[column(name = "Fax")]
    pub fax: Option<String>,
    #[column(name = "Email")]
    pub email: String,
    #[column(name = "SupportRepId")]
    #[foreign_key(references = Employee, on_delete = set_null, on_update = cascade)]
    pub support_rep_id: Option<Id<Employee>>,
}

#[derive(Table, Debug, Clone, Serialize, Deserialize)]
#[table(name = "Genre")]
pub struct Genre {
    #[primary_key]
    #[column(name = "GenreId")]
    pub genre_id: i64,
    #[column(name = "Name")]
    pub name: Option<String>,
}

#[derive(Table, Debug, Clone, Serialize, Deserialize)]
#[table(name = "Invoice")]
#[index(name = "IFK_InvoiceCustomerId", columns(customer_id))]
pub struct Invoice {
    #[primary_key]
    #[column(name = "InvoiceId")]
    pub invoice_id: i64,
    #[column(name = "CustomerId")]
    #[foreign_key(references = Customer, on_delete = cascade, on_update = cascade)]
    pub customer_id: Id<Customer>,
    #[column(name = "InvoiceDate")]
    pub invoice_date: String,
    #[column(name = "BillingAddress")]
    pub billing_address: Option<String>,
    #[column(name = "BillingCity")]
    pub billing_city: Option<String>,
    #[column(name = "BillingState")]
    pub billing_state: Option<String>,
    #[column(name = "BillingCountry")]
    pub billing_country: Option<String>,
    #[column(name = "BillingPostalCode")]
    pub billing_postal_code: Option<String>,
    #[column(name = "Total")]
    pub total: f64,
}

#[derive(Table, Debug, Clone, Serialize, Deserialize)]
#[table(name = "InvoiceLine")]
#[index(name = "IFK_InvoiceLineInvoiceId", columns(invoice_id))]
#[index(name = "IFK_InvoiceLineTrackId", columns(track_id))]
pub struct InvoiceLine {
    #[primary_key]
    #[column(name = "InvoiceLineId")]
    pub invoice_line_id: i64,
    #[column(name = "InvoiceId")]
    #[foreign_key(references = Invoice, on_delete = cascade, on_update = cascade)]
    pub invoice_id: Id<Invoice>,
    #[column(name = "TrackId")]
    #[foreign_key(references = Track, on_delete = restrict, on_update = cascade)]
    pub track_id: Id<Track>,
    #[column(name = "UnitPrice")]
    pub unit_price: f64,
    #[column(name = "Quantity")]
    pub quantity: i64,
}

#[derive(Table, Debug, Clone, Serialize, Deserialize)]
#[table(name = "MediaType")]
pub struct MediaType {
    #[primary_key]
    #[column(name = "MediaTypeId")]
    pub media_type_id: i64,
    #[column(name = "Name")]
    pub name: Option<String>,
}

#[derive(Table, Debug, Clone, Serialize, Deserialize)]
#[table(name = "Playlist")]
pub struct Playlist {
    #[primary_key]
    #[column(name = "PlaylistId")]
    pub playlist_id: i64,
    #[column(name = "Name")]
    pub name: Option<String>,
}

#[derive(Table, Debug, Clone, Serialize, Deserialize)]
#[table(name = "PlaylistTrack", primary_key(playlist_id, track_id))]
#[index(name = "IFK_PlaylistTrackPlaylistId", columns(playlist_id))]
#[index(name = "IFK_PlaylistTrackTrackId", columns(track_id))]
pub struct PlaylistTrack {
    #[column(name = "PlaylistId")]
    #[foreign_key(references = Playlist, on_delete = cascade, on_update = cascade)]
    pub playlist_id: Id<Playlist>,
    #[column(name = "TrackId")]
    #[foreign_key(references = Track, on_delete = cascade, on_update = cascade)]
    pub track_id: Id<Track>,
}

#[derive(Table, Debug, Clone, Serialize, Deserialize)]
#[table(name = "Track")]
#[index(name = "IFK_TrackAlbumId", columns(album_id))]
#[index(name = "IFK_TrackGenreId", columns(genre_id))]
#[index(name = "IFK_TrackMediaTypeId", columns(media_type_id))]
pub struct Track {
    #[primary_key]
    #[column(name = "TrackId")]
    pub track_id: i64,
    #[column(name = "Name")]
    pub name: String,
    #[column(name = "AlbumId")]
    #[foreign_key(references = Album, on_delete = cascade, on_update = cascade)]
    pub album_id: Option<Id<Album>>,
    #[column(name = "MediaTypeId")]
    #[foreign_key(references = MediaType, on_delete = restrict, on_update = cascade)]
    pub media_type_id: Id<MediaType>,
    #[column(name = "GenreId")]
    #[foreign_key(references = Genre, on_delete = set_null, on_update = cascade)]
    pub genre_id: Option<Id<Genre>>,
    #[column(name = "Composer")]
    pub composer: Option<String>,
    #[column(name = "Milliseconds")]
    pub milliseconds: i64,
    #[column(name = "Bytes")]
    pub bytes: Option<i64>,
    #[column(name = "UnitPrice")]
    pub unit_price: f64,
}

/// The whole schema, parents before children (the order rows are copied in).
pub static CHINOOK: Schema = schema![
    Artist,
    Album,
    Genre,
    MediaType,
    Track,
    Playlist,
    PlaylistTrack,
    Employee,
    Customer,
    Invoice,
    InvoiceLine,
];
