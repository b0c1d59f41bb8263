namespace Steller.Projections.Engine;

/// <summary>
/// What analysts read about one view in schema read (psql's \d+, docs/read-models.md): a sentence for the view and one
/// for each of its columns. A projection declares them next to its table DDL (<see cref="IProjection.Docs"/>); the engine
/// writes them as COMMENT ON every time it points the views at a generation, so a rebuild keeps them.
/// </summary>
public sealed class ReadViewDoc
{
    public ReadViewDoc(string view, string description, params (string Column, string Meaning)[] columns)
    {
        View = view;
        Description = description;
        Columns = columns;
    }

    /// <summary>The view's name in schema read (the table's name).</summary>
    public string View { get; }

    public string Description { get; }

    /// <summary>Every column of the view, in any order.</summary>
    public IReadOnlyList<(string Column, string Meaning)> Columns { get; }

    /// <summary>The COMMENT ON statements for read.<see cref="View"/> and its columns.</summary>
    public string CommentSql()
    {
        var sql = new System.Text.StringBuilder();
        var view = $"{ProjectionSchemas.Views}.{Identifier(View)}";
        sql.Append($"comment on view {view} is {Literal(Description)};\n");
        foreach (var (column, meaning) in Columns)
            sql.Append($"comment on column {view}.{Identifier(column)} is {Literal(meaning)};\n");
        return sql.ToString();
    }

    /// <summary>COMMENT takes no parameters: a string constant with its quotes doubled.</summary>
    private static string Literal(string text) => "'" + text.Replace("'", "''", StringComparison.Ordinal) + "'";

    /// <summary>Names come from code, never from input; still, only plain lower-case identifiers are accepted.</summary>
    private static string Identifier(string name) =>
        name.Length is > 0 and <= 63 && name.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '_') && !char.IsAsciiDigit(name[0])
            ? name
            : throw new ArgumentException($"'{name}' is not a plain identifier.", nameof(name));
}
