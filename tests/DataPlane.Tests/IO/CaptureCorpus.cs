using DataPlane.Tests.Infrastructure;

namespace DataPlane.Tests.IO;

/// <summary>
/// Files of the capture corpus (<see cref="Repo.Corpus"/>: pcaps/corpus, or DATAPLANE_PCAPS_CORPUS), failing clearly
/// when the folder is missing.
/// </summary>
internal static class CaptureCorpus
{
    /// <summary>Absolute path of the corpus folder.</summary>
    public static string Directory
    {
        get
        {
            string d = Repo.Corpus;
            if (!System.IO.Directory.Exists(d))
            {
                throw new InvalidOperationException($"capture corpus not found at {d} (pcaps/corpus, or DATAPLANE_PCAPS_CORPUS).");
            }

            return d;
        }
    }

    /// <summary>Absolute path of one corpus file (see pcaps/corpus/README.md for what each is).</summary>
    public static string File(string name) => System.IO.Path.Combine(Directory, name);
}
