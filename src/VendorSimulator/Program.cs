namespace Steller.VendorSimulator;

/// <summary>
/// <c>dotnet Steller.VendorSimulator.dll --urls http://127.0.0.1:5090 [--Simulator:Sandbox=true]</c> (see docs/vendors.md).
/// A named entry point rather than top-level statements: those would add a global <c>Program</c> class that clashes
/// with the API's in any project referencing both (the tests do).
/// </summary>
public static class SimulatorProgram
{
    public static async Task Main(string[] args) => await SimulatorApp.Create(args).RunAsync();
}
