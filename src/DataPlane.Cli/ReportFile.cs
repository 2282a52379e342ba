using DataPlane.IO.Report;

namespace DataPlane.Cli;

/// <summary>
/// The <c>--report</c> file of replay and verify: created when the run starts, written when it ends, and removed if the run fails
/// before that, so an error never leaves an empty page behind that looks like a report.
/// </summary>
sealed class ReportFile(string path) : IDisposable
{
    StreamWriter? _writer = new(path, append: false, new System.Text.UTF8Encoding(false));
    bool _written;

    public void Write(ReportData data)
    {
        HtmlReport.Write(_writer!, data);
        _writer!.Dispose();
        _writer = null;
        _written = true;
    }

    public void Dispose()
    {
        _writer?.Dispose();
        if (!_written) File.Delete(path);
    }
}
