namespace Steller.Domain;

/// <summary>
/// The stored name of an event, fixed forever (for example "wallet.hold-placed.v1").
/// Never derived from the CLR type name, so classes can be renamed and moved freely.
/// A changed shape is a new ".v2" name plus an upcaster from ".v1".
/// </summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class EventNameAttribute(string name) : Attribute
{
    public string Name { get; } = name;
}
