package chive.core.store;

import chive.core.sim.ChiveException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

/**
 * The record of a complete chive folder: its kind and the size and CRC32C of
 * every file under it, written last (so its presence means the folder is
 * complete) and checked when the folder is read (so a truncated, missing or
 * altered file is named instead of read). Plain text, one line each:
 * <pre>
 * chive-manifest 1
 * kind chive-network
 * file SIZE CRC32C-HEX relative/path
 * ...
 * end N
 * </pre>
 */
public final class Manifest {
  private Manifest() {}

  public static final String FILE = "MANIFEST.chive";
  private static final String HEADER = "chive-manifest 1";
  /** A manifest larger than this is not one of ours. */
  private static final long MAX_BYTES = 16L << 20;

  /** One file's record. */
  public static final class Entry {
    public final String path;
    public final long size;
    public final long crc;
    Entry(String path, long size, long crc) { this.path = path; this.size = size; this.crc = crc; }
  }

  /** Records every regular file under {@code dir}, flushes them and the manifest to disk. */
  public static void write(Path dir, String kind) throws IOException {
    if (kind.isEmpty() || kind.contains("\n") || kind.contains(" ")) throw new ChiveException("bad folder kind " + kind);
    List<Path> files = new ArrayList<>();
    List<Path> dirs = new ArrayList<>();
    try (Stream<Path> s = Files.walk(dir)) {
      s.forEach(p -> {
        if (Files.isSymbolicLink(p)) throw new ChiveException(p + ": a save may not contain symbolic links");
        if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) files.add(p);
        else if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) dirs.add(p);
      });
    }
    files.sort(null);
    StringBuilder sb = new StringBuilder(HEADER).append('\n').append("kind ").append(kind).append('\n');
    for (Path f : files) {
      String rel = dir.relativize(f).toString().replace('\\', '/');
      if (rel.equals(FILE) || rel.equals(FILE + ".tmp")) continue;
      if (rel.contains("\n")) throw new ChiveException(f + ": file names with line breaks cannot be recorded");
      long[] sc = sizeAndCrc(f);
      sb.append("file ").append(sc[0]).append(' ').append(Long.toHexString(sc[1])).append(' ').append(rel).append('\n');
      force(f);
    }
    sb.append("end ").append(files.size()).append('\n');
    Path tmp = dir.resolve(FILE + ".tmp");
    Files.write(tmp, sb.toString().getBytes(StandardCharsets.UTF_8));
    force(tmp);
    Files.move(tmp, dir.resolve(FILE), StandardCopyOption.ATOMIC_MOVE);
    for (Path d : dirs) AtomicDir.syncDir(d);
  }

  private static void force(Path f) throws IOException {
    try (FileChannel c = FileChannel.open(f, StandardOpenOption.READ)) {
      c.force(true);
    }
  }

  static long[] sizeAndCrc(Path f) throws IOException {
    CRC32C crc = new CRC32C();
    long size = 0;
    byte[] buf = new byte[1 << 16];
    try (InputStream in = Files.newInputStream(f, LinkOption.NOFOLLOW_LINKS)) {
      int r;
      while ((r = in.read(buf)) > 0) {
        crc.update(buf, 0, r);
        size += r;
      }
    }
    return new long[] {size, crc.getValue()};
  }

  /** Parsed manifest: kind and entries by path. */
  public static final class Parsed {
    public final String kind;
    public final Map<String, Entry> entries;
    Parsed(String kind, Map<String, Entry> entries) { this.kind = kind; this.entries = entries; }
  }

  /** Reads {@code dir}'s manifest; throws naming the file and line for anything malformed. */
  public static Parsed read(Path dir) throws IOException {
    Path f = dir.resolve(FILE);
    if (!Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)) throw new ChiveException(f + ": no such file");
    long size = Files.size(f);
    if (size > MAX_BYTES) throw new ChiveException(f + ": " + size + " bytes is too large for a chive manifest");
    List<String> lines = Files.readAllLines(f, StandardCharsets.UTF_8);
    if (lines.isEmpty() || !lines.get(0).equals(HEADER)) {
      throw new ChiveException(f + ": not a chive manifest (first line " + (lines.isEmpty() ? "missing" : "'" + lines.get(0) + "'")
          + ", expected '" + HEADER + "')");
    }
    if (lines.size() < 3 || !lines.get(1).startsWith("kind ")) throw new ChiveException(f + ": line 2 must be 'kind ...'");
    String kind = lines.get(1).substring(5);
    Map<String, Entry> entries = new LinkedHashMap<>();
    String last = lines.get(lines.size() - 1);
    if (!last.startsWith("end ")) throw new ChiveException(f + ": truncated (no 'end' line)");
    for (int i = 2; i < lines.size() - 1; i++) {
      String l = lines.get(i);
      String[] p = l.split(" ", 4);
      if (p.length != 4 || !p[0].equals("file")) throw new ChiveException(f + ": line " + (i + 1) + " is malformed: " + l);
      try {
        long sz = Long.parseLong(p[1]);
        long crc = Long.parseUnsignedLong(p[2], 16);
        if (sz < 0 || p[3].isEmpty() || p[3].startsWith("/") || p[3].contains("..")) throw new NumberFormatException();
        entries.put(p[3], new Entry(p[3], sz, crc));
      } catch (NumberFormatException e) {
        throw new ChiveException(f + ": line " + (i + 1) + " is malformed: " + l);
      }
    }
    long n;
    try { n = Long.parseLong(last.substring(4).trim()); } catch (NumberFormatException e) { n = -1; }
    if (n != entries.size()) throw new ChiveException(f + ": records " + entries.size() + " files but its end line says " + last.substring(4));
    return new Parsed(kind, entries);
  }

  /** The kind recorded in {@code dir}'s manifest. */
  public static String kindOf(Path dir) throws IOException { return read(dir).kind; }

  /**
   * Checks every recorded file of {@code dir}: present, same size, same CRC32C.
   * Returns the manifest; throws ChiveException naming the first file that
   * differs and how.
   */
  public static Parsed verify(Path dir) throws IOException {
    Parsed m = read(dir);
    for (Entry e : m.entries.values()) {
      Path f = dir.resolve(e.path);
      if (!Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)) {
        throw new ChiveException(f + ": missing (recorded in " + dir.resolve(FILE) + ")");
      }
      long size = Files.size(f);
      if (size != e.size) {
        throw new ChiveException(f + ": " + size + " bytes, but the save recorded " + e.size
            + (size < e.size ? " (truncated)" : " (grown)") + " after it was written");
      }
      long[] sc = sizeAndCrc(f);
      if (sc[1] != e.crc) {
        throw new ChiveException(f + ": its contents changed after it was saved (CRC32C " + Long.toHexString(sc[1])
            + ", recorded " + Long.toHexString(e.crc) + ")");
      }
    }
    return m;
  }

  /** True when {@code dir} has a manifest and every file matches it. */
  public static boolean isComplete(Path dir) {
    try {
      verify(dir);
      return true;
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }

}
