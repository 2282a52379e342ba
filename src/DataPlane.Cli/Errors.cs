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
    /// <param name="failCode">The exit code for bad input: 1, or 2 where 1 means a finding (<c>verify</c>, as <c>kubectl diff</c>).</param>
    public static int Guard(Func<int> action, int failCode = 1)
    {
        try
        {
            return action();
        }
        catch (ManifestException e) { return Fail(e.RefusedBy is { } who ? $"{e.Message} ({who} refuses it too)" : e.Message, failCode); }
        catch (CaptureFormatException e) { return Fail(e.Message, failCode); }
        catch (UsageException e) { return Fail(e.Message, failCode); }
        catch (Lab.LabException e) { return Fail(e.Message, failCode); }
        catch (TraceInputException e) { return Fail(e.Message, failCode); }
        catch (FileNotFoundException e) { return Fail($"{e.FileName ?? "file"}: not found", failCode); }
        catch (DirectoryNotFoundException e) { return Fail(e.Message, failCode); }
        catch (UnauthorizedAccessException e) { return Fail(e.Message, failCode); }
        catch (IOException e) { return Fail(e.Message, failCode); }
    }

    static int Fail(string message, int code)
    {
        Console.Error.WriteLine($"dataplane: error: {message.ReplaceLineEndings(" ")}");
        return code;
    }
}
