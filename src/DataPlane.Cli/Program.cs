using System.CommandLine;
using DataPlane.Cli;

return Cli.Build().Parse(args).Invoke();
