namespace Steller.Application.Pipeline;

/// <summary>Collects every field error of a request, so one 400 names all of them.</summary>
public sealed class FieldErrors
{
    private readonly Dictionary<string, List<string>> errors = new(StringComparer.Ordinal);

    public FieldErrors Check(bool ok, string field, string message)
    {
        if (!ok) (errors.TryGetValue(field, out var list) ? list : errors[field] = []).Add(message);
        return this;
    }

    /// <summary>
    /// A required field: "required" when it is missing, else <paramref name="message"/> when <paramref name="valid"/> is false.
    /// </summary>
    public FieldErrors Required<T>(T? value, string field, Func<T, bool> valid, string message) => value is null
        ? Check(false, field, "required")
        : Check(valid(value), field, message);

    public bool Any => errors.Count > 0;

    public IReadOnlyDictionary<string, string[]> ByField => errors.ToDictionary(e => e.Key, e => e.Value.ToArray(), StringComparer.Ordinal);

    public IReadOnlyCollection<string> Fields => errors.Keys;
}

/// <summary>
/// A request that checks its own fields; <see cref="ValidationBehavior{TRequest,TResponse}"/> runs it before the handler.
/// </summary>
public interface IValidated
{
    void Validate(FieldErrors errors);
}

/// <summary>Thrown by the validation behaviour: the edge answers 400 validation_failed naming every field.</summary>
public sealed class ValidationFailedException(FieldErrors errors)
    : Exception($"{errors.Fields.Count} field(s) are invalid: {string.Join(", ", errors.Fields)}.")
{
    public FieldErrors Errors { get; } = errors;
}
