using Steller.VendorSimulator;

// dotnet Steller.VendorSimulator.dll --urls http://127.0.0.1:5090 [--Simulator:Sandbox=true] (see docs/vendors.md)
var app = SimulatorApp.Create(args);
await app.RunAsync();
