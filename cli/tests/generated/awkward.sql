CREATE TABLE "Org Units" (
    org INTEGER NOT NULL,
    code TEXT NOT NULL,
    "type" TEXT NOT NULL DEFAULT 'team',
    rank REAL DEFAULT 1.5,
    PRIMARY KEY (org, code)
);
CREATE TABLE symbols (
    fqn TEXT PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    weight INTEGER NOT NULL DEFAULT 0,
    blob_data BLOB
);
CREATE TABLE "edge list" (
    id INTEGER PRIMARY KEY,
    "From" TEXT NOT NULL REFERENCES symbols ON DELETE CASCADE ON UPDATE CASCADE,
    to_slug TEXT REFERENCES symbols(slug) ON DELETE SET NULL,
    org INTEGER,
    unit TEXT,
    note TEXT DEFAULT NULL,
    FOREIGN KEY (org, unit) REFERENCES "Org Units"(org, code) ON DELETE SET NULL
);
CREATE INDEX "edge list__by_from" ON "edge list"("From");
CREATE INDEX "idx edges to" ON "edge list"(to_slug);
CREATE INDEX "1st org unit" ON "edge list"(org, unit);
