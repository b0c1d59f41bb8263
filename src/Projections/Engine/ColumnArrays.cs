using Dapper;

namespace Steller.Projections.Engine;

/// <summary>
/// Rows sent to PostgreSQL as one array per column, so a whole batch is one statement:
/// <c>insert into t ({Columns}) select * from {Unnest}</c>. Each column is named once, in <see cref="With{TValue}"/>:
/// the parameter, the insert's column list and the alias of the unnest all come from that name.
/// </summary>
public sealed class ColumnArrays<TRow>
{
    private readonly IReadOnlyList<TRow> rows;
    private readonly List<string> names = [];

    public ColumnArrays(IEnumerable<TRow> rows) => this.rows = rows as IReadOnlyList<TRow> ?? rows.ToList();

    /// <summary>The parameters: one array per column, named as the column.</summary>
    public DynamicParameters Parameters { get; } = new();

    public int Count => rows.Count;

    /// <summary>
    /// Adds the column <paramref name="column"/> (a table column name) with each row's value; text through
    /// <see cref="PgText.Clean"/>.
    /// </summary>
    public ColumnArrays<TRow> With<TValue>(string column, Func<TRow, TValue> value)
    {
        names.Add(column);
        Parameters.Add(column, typeof(TValue) == typeof(string)
            ? rows.Select(r => PgText.Clean((string?)(object?)value(r))).ToArray()
            : rows.Select(value).ToArray());
        return this;
    }

    /// <summary>
    /// Adds a json/jsonb column: each row's value serialized with <paramref name="options"/>, which must clean its strings
    /// (<see cref="PgText.StringConverter"/>); the document as a whole is never cut.
    /// </summary>
    public ColumnArrays<TRow> WithJson<TValue>(string column, Func<TRow, TValue> value, System.Text.Json.JsonSerializerOptions options)
    {
        if (!options.Converters.Any(c => c is PgText.StringConverter))
            throw new ArgumentException("JSON bound for PostgreSQL is written with PgText.StringConverter.", nameof(options));
        names.Add(column);
        Parameters.Add(column, rows.Select(r => System.Text.Json.JsonSerializer.Serialize(value(r), options)).ToArray());
        return this;
    }

    /// <summary>"a, b, c": the columns in the order they were added.</summary>
    public string Columns => string.Join(", ", names);

    /// <summary>"unnest(@a, @b, @c) as u(a, b, c)": the rows as a table whose columns carry the table's names.</summary>
    public string Unnest(string alias = "u") => $"unnest({string.Join(", ", names.Select(n => "@" + n))}) as {alias}({Columns})";
}

/// <summary>Starts a <see cref="ColumnArrays{TRow}"/> with the row type inferred.</summary>
public static class ColumnArrays
{
    public static ColumnArrays<TRow> Of<TRow>(IEnumerable<TRow> rows) => new(rows);
}
