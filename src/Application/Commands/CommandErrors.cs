using Steller.Domain;

namespace Steller.Application.Commands;

/// <summary>Refusals of the command pipeline itself, whatever the aggregate.</summary>
public static class CommandErrors
{
    public const string PreconditionFailedCode = "precondition_failed";

    /// <summary>If-Match named a revision the stream is no longer (or not yet) at: nothing was appended.</summary>
    public static DomainError PreconditionFailed(long expected, long actual) => new(PreconditionFailedCode,
        $"If-Match names revision {expected}, but the resource is at revision {actual}: read it again and decide on what it is now.");
}
