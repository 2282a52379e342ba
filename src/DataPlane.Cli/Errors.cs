using DataPlane.IO.Pcap;
using DataPlane.IO.Trace;
using DataPlane.IO;
using DataPlane.Kubernetes.Manifests;
using DataPlane.Kubernetes;

namespace DataPlane.Cli;

/// <summary>A bad command line that the parser cannot catch (e.g. a value out of range).</summary>
public sealed class UsageException(string message) : Exception(message);

/// <summary>
/// The edge where errors become one line on stderr and a non-zero exit code: bad manifests name file, object and field;
/// bad captures name the file and the record. No stack traces for bad input.
/// </summary>
public static class Errors
{
    public static int Guard(Func<int> action)
    {
        try
        {
            return action();
        }
        catch (ManifestException e) { return Fail(e.RefusedBy is { } who ? $"{e.Message} ({who} refuses it too)" : e.Message); }
        catch (CaptureFormatException e) { return Fail(e.Message); }
        catch (UsageException e) { return Fail(e.Message); }
        catch (Lab.LabException e) { return Fail(e.Message); }
        catch (TraceInputException e) { return Fail(e.Message); }
        catch (FileNotFoundException e) { return Fail($"{e.FileName ?? "file"}: not found"); }
        catch (DirectoryNotFoundException e) { return Fail(e.Message); }
        catch (UnauthorizedAccessException e) { return Fail(e.Message); }
        catch (IOException e) { return Fail(e.Message); }
    }

    static int Fail(string message)
    {
        Console.Error.WriteLine($"dataplane: error: {message.ReplaceLineEndings(" ")}");
        return 1;
    }
}
