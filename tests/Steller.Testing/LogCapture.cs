using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Steller.Testing;

/// <summary>
/// Captures every log line of a host: the message, every structured value (so a secret in a property the template
/// leaves out is caught too) and the active scopes (correlation ids). Tests read <see cref="Lines"/>.
/// </summary>
public sealed class LogCapture : ILoggerProvider
{
    public ConcurrentQueue<string> Lines { get; } = new();
    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);
    public void Dispose() { }

    private sealed class Logger(LogCapture capture, string category) : ILogger
    {
        private static readonly AsyncLocal<List<object>> Scopes = new();

        public IDisposable BeginScope<TState>(TState state) where TState : notnull
        {
            var list = Scopes.Value ??= [];
            list.Add(state);
            return new Pop(list);
        }

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel level, EventId id, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var scopes = Scopes.Value is { } s ? string.Join(";", s.Select(Describe)) : "";
            var values = state is IEnumerable<KeyValuePair<string, object?>> pairs ? string.Join(",", pairs.Select(p => $"{p.Key}={p.Value}")) : "";
            capture.Lines.Enqueue($"{level} {category}: {formatter(state, exception)} {{{values}}} [{scopes}] {exception}");
        }

        private static string Describe(object scope) => scope is IEnumerable<KeyValuePair<string, object>> pairs
            ? string.Join(",", pairs.Select(p => $"{p.Key}={p.Value}")) : scope.ToString() ?? "";

        private sealed class Pop(List<object> list) : IDisposable
        {
            public void Dispose() { if (list.Count > 0) list.RemoveAt(list.Count - 1); }
        }
    }
}
