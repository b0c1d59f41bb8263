global using FluentAssertions;
global using NUnit.Framework;
global using Steller.Testing;
