//! The write path's one meeting point with the two backends.
//!
//! Everything a turn writes is planned by plain functions as [`Sql`]: a statement's text (one
//! text for both backends, `$1` placeholders) and its arguments as [`Arg`] values. Only the
//! four methods of [`Conn`] look at which backend is underneath, binding the arguments and
//! running the statement on it. So the rules of a turn (what it writes, in which order, and
//! what follows from a row that was or was not written) are ordinary Rust that both backends
//! share and an editor can see into, and adding a kind of row touches one function.
//!
//! The SQL text never holds a person's words: they travel only as bound arguments.

use super::{Db, Result};
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use sqlx::{FromRow, PgConnection, Postgres, Sqlite, SqliteConnection, Transaction};

/// One bound argument.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Arg {
    /// An integer (ids, times in epoch milliseconds, counts), or NULL.
    Int(Option<i64>),
    /// Text, or NULL.
    Text(Option<String>),
    /// A flag.
    Bool(bool),
}

impl From<i64> for Arg {
    fn from(v: i64) -> Self {
        Arg::Int(Some(v))
    }
}
impl From<Option<i64>> for Arg {
    fn from(v: Option<i64>) -> Self {
        Arg::Int(v)
    }
}
impl From<bool> for Arg {
    fn from(v: bool) -> Self {
        Arg::Bool(v)
    }
}
impl From<String> for Arg {
    fn from(v: String) -> Self {
        Arg::Text(Some(v))
    }
}
impl From<&str> for Arg {
    fn from(v: &str) -> Self {
        Arg::Text(Some(v.to_string()))
    }
}
impl From<&String> for Arg {
    fn from(v: &String) -> Self {
        Arg::Text(Some(v.clone()))
    }
}
impl From<Option<String>> for Arg {
    fn from(v: Option<String>) -> Self {
        Arg::Text(v)
    }
}
impl From<Option<&str>> for Arg {
    fn from(v: Option<&str>) -> Self {
        Arg::Text(v.map(str::to_string))
    }
}

/// A statement and its arguments, not yet run.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Sql {
    text: String,
    args: Vec<Arg>,
    /// Every placeholder is used once, in the order of `args` (multi-row statements, `IN`
    /// lists): SQLite then gets plain `?`s. With thousands of parameters that matters: SQLite
    /// looks a numbered or named parameter up by scanning a list, so binding 11,000 of them
    /// costs quadratic time (measured: the 10,000-resident fan-out took 1.8 s instead of 0.6).
    sequential: bool,
}

impl Sql {
    /// A statement; its arguments follow with [`Sql::bind`], in placeholder order.
    pub(crate) fn new(text: &str) -> Self {
        Self {
            text: text.to_string(),
            args: Vec::new(),
            sequential: false,
        }
    }

    /// Marks every placeholder of the statement as used once, in argument order (see
    /// `sequential`).
    pub(crate) fn sequential(mut self) -> Self {
        self.sequential = true;
        self
    }

    /// The statement's text for SQLite.
    fn sqlite_text(text: String, sequential: bool) -> String {
        if !sequential {
            return text;
        }
        let mut out = String::with_capacity(text.len());
        let mut chars = text.chars().peekable();
        while let Some(ch) = chars.next() {
            if ch == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
                out.push('?');
                while chars.peek().is_some_and(char::is_ascii_digit) {
                    chars.next();
                }
            } else {
                out.push(ch);
            }
        }
        out
    }

    /// Binds the next placeholder.
    pub(crate) fn bind(mut self, arg: impl Into<Arg>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// A one-row `INSERT`: `head` (the column list), `VALUES` with `row`'s placeholders, `tail`.
    pub(crate) fn row(head: &str, row: Vec<Arg>, tail: &str) -> Self {
        Self::values(head, vec![row], tail)
    }

    /// A multi-row `INSERT`: `head`, then `VALUES` with one parenthesised group of placeholders
    /// per row (every row as wide as the first), then `tail`. `None` for no rows.
    pub(crate) fn rows(head: &str, rows: Vec<Vec<Arg>>, tail: &str) -> Option<Self> {
        (!rows.is_empty()).then(|| Self::values(head, rows, tail))
    }

    fn values(head: &str, rows: Vec<Vec<Arg>>, tail: &str) -> Self {
        let width = rows.first().map_or(0, Vec::len);
        let mut text = String::with_capacity(head.len() + tail.len() + rows.len() * width * 6);
        text.push_str(head.trim_end());
        text.push_str(" VALUES ");
        let mut args = Vec::with_capacity(rows.len() * width);
        for (r, row) in rows.into_iter().enumerate() {
            debug_assert_eq!(
                row.len(),
                width,
                "every row of a multi-row statement is as wide"
            );
            text.push_str(if r == 0 { "(" } else { ", (" });
            for (c, arg) in row.into_iter().enumerate() {
                if c > 0 {
                    text.push_str(", ");
                }
                args.push(arg);
                text.push('$');
                text.push_str(&args.len().to_string());
            }
            text.push(')');
        }
        if !tail.is_empty() {
            text.push(' ');
            text.push_str(tail);
        }
        Self {
            text,
            args,
            sequential: true,
        }
    }
}

/// Binds `$args` to query `$q` on whichever backend `$q` belongs to.
macro_rules! bound {
    ($q:expr, $args:expr) => {{
        let mut q = $q;
        for arg in $args {
            q = match arg {
                Arg::Int(v) => q.bind(v),
                Arg::Text(v) => q.bind(v),
                Arg::Bool(v) => q.bind(v),
            };
        }
        q
    }};
}

/// `text` as SQLite is given it (see [`Sql::sequential`]).
fn sqlite(text: String, sequential: bool) -> sqlx::AssertSqlSafe<String> {
    sqlx::AssertSqlSafe(Sql::sqlite_text(text, sequential))
}

/// Runs `$q` on `$conn` as `query_as::<_, $t>` and reads its rows with `$fetch` (`fetch_all`,
/// `fetch_optional`).
macro_rules! fetch_as {
    ($conn:expr, $q:expr, $t:ty, $fetch:ident) => {
        match $conn {
            Conn::Sqlite(c) => {
                bound!(
                    sqlx::query_as::<Sqlite, $t>(sqlite($q.text, $q.sequential)),
                    $q.args
                )
                .$fetch(&mut **c)
                .await?
            }
            Conn::Postgres(c) => {
                bound!(
                    sqlx::query_as::<Postgres, $t>(sqlx::AssertSqlSafe($q.text)),
                    $q.args
                )
                .$fetch(&mut **c)
                .await?
            }
        }
    };
}

/// A connection inside a transaction, on either backend.
pub(crate) enum Conn<'a> {
    /// SQLite.
    Sqlite(&'a mut SqliteConnection),
    /// PostgreSQL.
    Postgres(&'a mut PgConnection),
}

impl<'a> From<&'a mut SqliteConnection> for Conn<'a> {
    fn from(c: &'a mut SqliteConnection) -> Self {
        Conn::Sqlite(c)
    }
}

impl<'a> From<&'a mut PgConnection> for Conn<'a> {
    fn from(c: &'a mut PgConnection) -> Self {
        Conn::Postgres(c)
    }
}

impl Conn<'_> {
    /// True on PostgreSQL (row locks and the audit chain's advisory lock are needed there; on
    /// SQLite the single writer serialises everything).
    pub(crate) fn is_postgres(&self) -> bool {
        matches!(self, Conn::Postgres(_))
    }

    /// Runs `q`; the number of rows it changed.
    pub(crate) async fn execute(&mut self, q: Sql) -> Result<u64> {
        // Safe: statement texts are written in this crate; people's words are only bound.
        Ok(match self {
            Conn::Sqlite(c) => bound!(sqlx::query(sqlite(q.text, q.sequential)), q.args)
                .execute(&mut **c)
                .await?
                .rows_affected(),
            Conn::Postgres(c) => bound!(sqlx::query(sqlx::AssertSqlSafe(q.text)), q.args)
                .execute(&mut **c)
                .await?
                .rows_affected(),
        })
    }

    /// Runs `q` and reads every row it returns as a `T` (a tuple for a few columns).
    pub(crate) async fn fetch_all<T>(&mut self, q: Sql) -> Result<Vec<T>>
    where
        T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin,
    {
        Ok(fetch_as!(self, q, T, fetch_all))
    }

    /// Runs `q` and reads the row it returns, if any.
    pub(crate) async fn fetch_optional<T>(&mut self, q: Sql) -> Result<Option<T>>
    where
        T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin,
    {
        Ok(fetch_as!(self, q, T, fetch_optional))
    }

    /// Runs `q` and reads the one row it must return.
    pub(crate) async fn fetch_one<T>(&mut self, q: Sql) -> Result<T>
    where
        T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin,
    {
        self.fetch_optional(q)
            .await?
            .ok_or_else(|| sqlx::Error::RowNotFound.into())
    }
}

/// A transaction of the write path, on either backend.
pub(crate) enum Tx {
    /// SQLite.
    Sqlite(Transaction<'static, Sqlite>),
    /// PostgreSQL.
    Postgres(Transaction<'static, Postgres>),
}

impl Tx {
    /// The transaction's connection, for the write path's functions.
    pub(crate) fn conn(&mut self) -> Conn<'_> {
        match self {
            Tx::Sqlite(tx) => Conn::Sqlite(&mut *tx),
            Tx::Postgres(tx) => Conn::Postgres(&mut *tx),
        }
    }

    /// Commits. Dropping a `Tx` instead rolls it back.
    pub(crate) async fn commit(self) -> Result<()> {
        match self {
            Tx::Sqlite(tx) => tx.commit().await?,
            Tx::Postgres(tx) => tx.commit().await?,
        }
        Ok(())
    }
}

impl Db {
    /// Begins a transaction on the pool that takes writes.
    pub(crate) async fn begin(&self) -> Result<Tx> {
        Ok(match self {
            Db::Sqlite(db) => Tx::Sqlite(db.write.begin().await?),
            Db::Postgres(db) => Tx::Postgres(db.pool.begin().await?),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_number_every_placeholder_in_order() {
        let q = Sql::rows(
            "INSERT INTO t (a, b)",
            vec![vec![1.into(), "x".into()], vec![2.into(), Arg::Text(None)]],
            "ON CONFLICT DO NOTHING",
        )
        .expect("two rows");
        assert_eq!(
            q.text,
            "INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4) ON CONFLICT DO NOTHING"
        );
        assert_eq!(
            q.args,
            vec![
                Arg::Int(Some(1)),
                Arg::Text(Some("x".into())),
                Arg::Int(Some(2)),
                Arg::Text(None)
            ]
        );
    }

    #[test]
    fn one_row_has_no_tail_unless_given() {
        let q = Sql::row("INSERT INTO t (a) ", vec![true.into()], "");
        assert_eq!(q.text, "INSERT INTO t (a) VALUES ($1)");
        assert_eq!(q.args, vec![Arg::Bool(true)]);
    }

    #[test]
    fn sqlite_gets_plain_placeholders_only_where_each_is_used_once_in_order() {
        let rows = Sql::row("INSERT INTO t (a, b)", vec![1.into(), 2.into()], "");
        assert_eq!(
            Sql::sqlite_text(rows.text, rows.sequential),
            "INSERT INTO t (a, b) VALUES (?, ?)"
        );
        let reused = Sql::new("UPDATE t SET a = $2 WHERE b = $1 OR c = $1");
        assert_eq!(
            Sql::sqlite_text(reused.text.clone(), reused.sequential),
            reused.text
        );
    }

    #[test]
    fn no_rows_is_no_statement() {
        assert_eq!(Sql::rows("INSERT INTO t (a)", Vec::new(), ""), None);
    }
}
