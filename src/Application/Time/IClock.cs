namespace Steller.Application.Time;

/// <summary>The only source of "now" outside tests. Domain code never reads a clock; time arrives on commands.</summary>
public interface IClock
{
    DateTimeOffset UtcNow { get; }
}

public sealed class SystemClock : IClock
{
    public DateTimeOffset UtcNow => DateTimeOffset.UtcNow;
}
