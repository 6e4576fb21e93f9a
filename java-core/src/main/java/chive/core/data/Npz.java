package chive.core.data;

import chive.core.sim.ChiveException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

/**
 * NumPy's .npz: a zip archive of .npy files, one per named array, as
 * {@code np.savez} (stored) and {@code np.savez_compressed} (deflated) write
 * it; SciPy's {@code save_npz} uses the same container. Reads every entry
 * through {@link Npy#parse}; writes stored or deflated entries.
 */
public final class Npz {
  private Npz() {}

  /** Array names chive writes: letters, digits, '_', '-', '.', not starting with '.'. */
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_-][A-Za-z0-9_.-]*");

  /**
   * The arrays of {@code file} by name (the entry name without ".npy"), in
   * archive order. Errors name the file and the entry: not a zip, an entry
   * that is not .npy, a corrupt or too large entry, duplicate names.
   */
  public static Map<String, Npy.Array> read(Path file) throws IOException {
    if (!Files.isRegularFile(file)) throw new ChiveException(file + ": no such file (expected a .npz archive)");
    Map<String, Npy.Array> out = new LinkedHashMap<>();
    ZipFile zip;
    try {
      zip = new ZipFile(file.toFile());
    } catch (ZipException e) {
      throw new ChiveException(file + ": not a .npz archive (" + e.getMessage() + ")");
    }
    try (ZipFile z = zip) {
      Enumeration<? extends ZipEntry> es = z.entries();
      while (es.hasMoreElements()) {
        ZipEntry e = es.nextElement();
        if (e.isDirectory()) continue;
        String entry = e.getName();
        if (!entry.endsWith(".npy")) throw new ChiveException(file + ": entry " + entry + " is not a .npy array");
        String name = entry.substring(0, entry.length() - 4);
        if (out.containsKey(name)) throw new ChiveException(file + ": the array " + name + " appears twice");
        long size = e.getSize();
        if (size > Integer.MAX_VALUE - 8) {
          throw new ChiveException(file + ": entry " + entry + " holds " + size + " bytes, more than one Java array;"
              + " save it as a separate .npy and memory-map it (chive.io/npy-map)");
        }
        byte[] bytes;
        try (InputStream in = z.getInputStream(e)) {
          bytes = in.readAllBytes();
        } catch (ZipException ex) {
          throw new ChiveException(file + ": entry " + entry + " is corrupt (" + ex.getMessage() + ")");
        }
        if (size >= 0 && bytes.length != size) throw new ChiveException(file + ": entry " + entry + " is truncated");
        out.put(name, Npy.parse(bytes, file + "[" + entry + "]"));
      }
    } catch (java.util.zip.ZipError | IllegalArgumentException e) {
      throw new ChiveException(file + ": corrupt .npz archive (" + e.getMessage() + ")");
    }
    return out;
  }

  /**
   * Writes {@code arrays} (name to .npy bytes from {@link Npy#encode}) to
   * {@code out} as an .npz archive, deflated when {@code compress}.
   */
  public static void write(OutputStream out, Map<String, byte[]> arrays, boolean compress, String what) throws IOException {
    for (String name : arrays.keySet()) {
      if (name == null || !NAME.matcher(name).matches()) {
        throw new ChiveException(what + ": array name " + (name == null ? "nil" : "\"" + name + "\"")
            + " must be letters, digits, _, - or . (not first)");
      }
    }
    ZipOutputStream z = new ZipOutputStream(out);
    for (Map.Entry<String, byte[]> a : arrays.entrySet()) {
      ZipEntry e = new ZipEntry(a.getKey() + ".npy");
      byte[] b = a.getValue();
      if (compress) {
        e.setMethod(ZipEntry.DEFLATED);
      } else {
        e.setMethod(ZipEntry.STORED);
        e.setSize(b.length);
        e.setCompressedSize(b.length);
        CRC32 crc = new CRC32();
        crc.update(b);
        e.setCrc(crc.getValue());
      }
      z.putNextEntry(e);
      z.write(b);
      z.closeEntry();
    }
    z.finish();
    z.flush();
  }
}
