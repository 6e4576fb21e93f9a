package chive.core.data;

import chive.core.sim.ChiveException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * NumPy's .npy format (versions 1 to 3). Reads float32/64, int8/16/32/64,
 * uint8/16/32 and bool arrays of any rank, little- or big-endian, C or
 * Fortran order (held little-endian, C order after reading: {@link Array#dtype}
 * names the data as held); writes little-endian C order. Reads check the
 * magic string, the header, the dtype and the length, and name the file in
 * every error.
 */
public final class Npy {
  private Npy() {}

  /** An array read from a file: its dtype ('&lt;f4', '&lt;f8', '&lt;i4', '&lt;i2'), shape and data. */
  public static final class Array {
    public final String dtype;
    public final int[] shape;
    private final ByteBuffer data;

    Array(String dtype, int[] shape, ByteBuffer data) {
      this.dtype = dtype;
      this.shape = shape;
      this.data = data;
    }

    public int length() {
      int n = 1;
      for (int s : shape) n *= s;
      return n;
    }

    public float[] floats(Path file) {
      need(file, "<f4");
      float[] a = new float[length()];
      data.asFloatBuffer().get(a);
      return a;
    }

    public double[] doubles(Path file) {
      need(file, "<f8");
      double[] a = new double[length()];
      data.asDoubleBuffer().get(a);
      return a;
    }

    public int[] ints(Path file) {
      need(file, "<i4");
      int[] a = new int[length()];
      data.asIntBuffer().get(a);
      return a;
    }

    public long[] longs(Path file) {
      need(file, "<i8");
      long[] a = new long[length()];
      data.asLongBuffer().get(a);
      return a;
    }

    /**
     * The one-dimensional array as float[], double[], int[] or long[], by its
     * dtype (f4, f8, i4, i8); any other dtype or shape is an error naming the file.
     */
    public Object primitive(Path file) {
      expectShape(file, length());
      switch (dtype) {
        case "<f4": return floats(file);
        case "<f8": return doubles(file);
        case "<i4": return ints(file);
        case "<i8": return longs(file);
        default:
          throw new ChiveException(file + ": expected an array of dtype <f4, <f8, <i4 or <i8 but the file holds " + dtype);
      }
    }

    /**
     * Every element as a double, whatever the dtype (float32/64, int8/16/32/64,
     * uint8/16/32, bool; int64 beyond 2^53 rounds): for inputs such as spike rasters, which numpy writes as
     * bool, uint8 or int64 as often as float.
     */
    public double[] numbers(Path file) {
      double[] a = new double[length()];
      ByteBuffer b = data.duplicate().order(java.nio.ByteOrder.LITTLE_ENDIAN);
      for (int i = 0; i < a.length; i++) {
        switch (dtype) {
          case "<f4": a[i] = b.getFloat(4 * i); break;
          case "<f8": a[i] = b.getDouble(8 * i); break;
          case "<i2": a[i] = b.getShort(2 * i); break;
          case "<i4": a[i] = b.getInt(4 * i); break;
          case "<i8": a[i] = b.getLong(8 * i); break;
          case "|i1": a[i] = b.get(i); break;
          case "|u1": case "|b1": a[i] = b.get(i) & 0xFF; break;
          case "<u2": a[i] = b.getShort(2 * i) & 0xFFFF; break;
          case "<u4": a[i] = b.getInt(4 * i) & 0xFFFFFFFFL; break;
          default: throw new ChiveException(file + ": cannot read dtype " + dtype + " as numbers");
        }
      }
      return a;
    }

    /**
     * The data as the Java array that holds every value exactly: float[]
     * (f4), double[] (f8), byte[] (i1), short[] (i2, and u1 widened),
     * int[] (i4, and u2 widened), long[] (i8, and u4 widened), boolean[]
     * (b1); a String for a 0-d bytes string. C order.
     */
    public Object data(Path file) {
      int n = length();
      ByteBuffer b = data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
      switch (dtype) {
        case "<f4": return floats(file);
        case "<f8": return doubles(file);
        case "<i4": return ints(file);
        case "<i8": return longs(file);
        case "<i2": return shorts(file);
        case "|i1": { byte[] a = new byte[n]; b.get(a); return a; }
        case "|b1": { boolean[] a = new boolean[n]; for (int i = 0; i < n; i++) a[i] = b.get(i) != 0; return a; }
        case "|u1": { short[] a = new short[n]; for (int i = 0; i < n; i++) a[i] = (short) (b.get(i) & 0xFF); return a; }
        case "<u2": { int[] a = new int[n]; for (int i = 0; i < n; i++) a[i] = b.getShort(2 * i) & 0xFFFF; return a; }
        case "<u4": { long[] a = new long[n]; for (int i = 0; i < n; i++) a[i] = b.getInt(4 * i) & 0xFFFFFFFFL; return a; }
        default:
          if (dtype.startsWith("|S")) return string(file);
          throw new ChiveException(file + ": cannot read dtype " + dtype);
      }
    }

    /** A bytes-string array (|S) as text, trailing NULs dropped (0-d: the one string). */
    public String string(Path file) {
      if (!dtype.startsWith("|S")) throw new ChiveException(file + ": expected a bytes string (|S) but the file holds " + dtype);
      byte[] b = new byte[data.remaining()];
      data.duplicate().get(b);
      int n = b.length;
      while (n > 0 && b[n - 1] == 0) n--;
      return new String(b, 0, n, StandardCharsets.ISO_8859_1);
    }

    public short[] shorts(Path file) {
      need(file, "<i2");
      short[] a = new short[length()];
      data.asShortBuffer().get(a);
      return a;
    }

    /**
     * Checks that the array has exactly {@code expected} as its shape; throws
     * naming the file and both shapes. Returns this array.
     */
    public Array expectShape(Path file, int... expected) {
      if (!java.util.Arrays.equals(shape, expected)) {
        throw new ChiveException(file + ": shape " + java.util.Arrays.toString(shape) + ", expected "
            + java.util.Arrays.toString(expected));
      }
      return this;
    }

    private void need(Path file, String want) {
      if (!dtype.equals(want)) {
        throw new ChiveException(file + ": expected an array of dtype " + want + " but the file holds " + dtype);
      }
    }
  }

  private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};

  public static void write(Path file, float[] a) throws IOException { write(file, "<f4", new int[] {a.length}, bytes(a)); }
  public static void write(Path file, double[] a) throws IOException { write(file, "<f8", new int[] {a.length}, bytes(a)); }
  public static void write(Path file, int[] a) throws IOException { write(file, "<i4", new int[] {a.length}, bytes(a)); }
  public static void write(Path file, long[] a) throws IOException {
    ByteBuffer b = buf(8 * a.length);
    b.asLongBuffer().put(a);
    write(file, "<i8", new int[] {a.length}, b.array());
  }

  /** Writes a float[], double[], int[], long[], short[], byte[] or boolean[] as a one-dimensional array. */
  public static void writeAny(Path file, Object a) throws IOException {
    Files.write(file, encode(a, null, file.toString()));
  }

  public static void write(Path file, short[] a) throws IOException { write(file, "<i2", new int[] {a.length}, bytes(a)); }
  /** int8 (numpy's |i1). */
  public static void write(Path file, byte[] a) throws IOException { write(file, "|i1", new int[] {a.length}, a.clone()); }
  /** bool (numpy's |b1: one byte, 0 or 1). */
  public static void write(Path file, boolean[] a) throws IOException {
    byte[] b = new byte[a.length];
    for (int i = 0; i < a.length; i++) b[i] = (byte) (a[i] ? 1 : 0);
    write(file, "|b1", new int[] {a.length}, b);
  }

  /** A float32 array of any shape from row-major (C-order) data. */
  public static void writeTensor(Path file, float[] rowMajor, int... shape) throws IOException {
    long n = 1;
    for (int d : shape) {
      if (d < 0) throw new ChiveException(file + ": negative dimension in shape " + java.util.Arrays.toString(shape));
      n *= d;
    }
    if (n != rowMajor.length) {
      throw new ChiveException(file + ": " + rowMajor.length + " values do not make an array of shape " + java.util.Arrays.toString(shape));
    }
    write(file, "<f4", shape.clone(), bytes(rowMajor));
  }

  /** A float32 matrix of {@code rows} x {@code cols} from row-major data. */
  public static void writeMatrix(Path file, float[] rowMajor, int rows, int cols) throws IOException {
    if ((long) rows * cols != rowMajor.length) {
      throw new ChiveException(file + ": " + rowMajor.length + " values do not make a " + rows + " x " + cols + " matrix");
    }
    write(file, "<f4", new int[] {rows, cols}, bytes(rowMajor));
  }

  private static ByteBuffer buf(int n) { return ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN); }
  private static byte[] bytes(float[] a) { ByteBuffer b = buf(4 * a.length); b.asFloatBuffer().put(a); return b.array(); }
  private static byte[] bytes(double[] a) { ByteBuffer b = buf(8 * a.length); b.asDoubleBuffer().put(a); return b.array(); }
  private static byte[] bytes(int[] a) { ByteBuffer b = buf(4 * a.length); b.asIntBuffer().put(a); return b.array(); }
  private static byte[] bytes(short[] a) { ByteBuffer b = buf(2 * a.length); b.asShortBuffer().put(a); return b.array(); }

  private static void write(Path file, String dtype, int[] shape, byte[] data) throws IOException {
    Files.write(file, encode(dtype, shape, data));
  }

  /** A whole .npy file (version 1, little-endian, C order) for {@code data} of {@code dtype} and {@code shape}. */
  static byte[] encode(String dtype, int[] shape, byte[] data) {
    StringBuilder sh = new StringBuilder("(");
    for (int k = 0; k < shape.length; k++) sh.append(shape[k]).append(shape.length == 1 ? "," : (k + 1 < shape.length ? ", " : ""));
    sh.append(")");
    String dict = "{'descr': '" + dtype + "', 'fortran_order': False, 'shape': " + sh + ", }";
    int unpadded = MAGIC.length + 2 + 2 + dict.length() + 1;
    int pad = (64 - unpadded % 64) % 64;
    String header = dict + " ".repeat(pad) + "\n";
    ByteBuffer out = ByteBuffer.allocate(MAGIC.length + 4 + header.length() + data.length).order(ByteOrder.LITTLE_ENDIAN);
    out.put(MAGIC).put((byte) 1).put((byte) 0).putShort((short) header.length());
    out.put(header.getBytes(StandardCharsets.US_ASCII)).put(data);
    return out.array();
  }

  /**
   * The .npy bytes of a float[], double[], int[], long[], short[], byte[]
   * (int8) or boolean[] with {@code shape} (null: one dimension), or of a
   * String as a 0-d bytes string (numpy's |S, ASCII), for .npz entries.
   */
  public static byte[] encode(Object a, int[] shape, String what) {
    if (a instanceof String) {
      byte[] b = ((String) a).getBytes(StandardCharsets.US_ASCII);
      if (b.length == 0) throw new ChiveException(what + ": an empty string cannot be stored as |S");
      return encode("|S" + b.length, new int[0], b);
    }
    int len = a == null || !a.getClass().isArray() ? -1 : java.lang.reflect.Array.getLength(a);
    String dtype;
    byte[] data;
    if (a instanceof float[]) { dtype = "<f4"; data = bytes((float[]) a); }
    else if (a instanceof double[]) { dtype = "<f8"; data = bytes((double[]) a); }
    else if (a instanceof int[]) { dtype = "<i4"; data = bytes((int[]) a); }
    else if (a instanceof long[]) { ByteBuffer b = buf(8 * len); b.asLongBuffer().put((long[]) a); dtype = "<i8"; data = b.array(); }
    else if (a instanceof short[]) { dtype = "<i2"; data = bytes((short[]) a); }
    else if (a instanceof byte[]) { dtype = "|i1"; data = ((byte[]) a).clone(); }
    else if (a instanceof boolean[]) {
      boolean[] z = (boolean[]) a;
      data = new byte[z.length];
      for (int i = 0; i < z.length; i++) data[i] = (byte) (z[i] ? 1 : 0);
      dtype = "|b1";
    } else {
      throw new ChiveException(what + ": cannot write " + (a == null ? "nil" : a.getClass().getSimpleName())
          + " as NPY (float[], double[], int[], long[], short[], byte[], boolean[] or a String)");
    }
    int[] sh = shape == null ? new int[] {len} : shape.clone();
    long n = 1;
    for (int d : sh) {
      if (d < 0) throw new ChiveException(what + ": negative dimension in shape " + java.util.Arrays.toString(sh));
      n *= d;
    }
    if (n != len) throw new ChiveException(what + ": " + len + " values do not make an array of shape " + java.util.Arrays.toString(sh));
    return encode(dtype, sh, data);
  }

  /**
   * An array on disk, memory-mapped rather than read: for arrays larger than
   * one Java array holds (over 2 GB), or when only part is needed. Element
   * {@code i} is the i-th in C order (last index fastest) whatever the
   * file's order; any numeric dtype reads as double or float.
   */
  public static final class Mapped {
    public final String dtype;
    public final int[] shape;
    public final long length;
    private final int item, kind;
    private final boolean fortran;
    private final java.nio.MappedByteBuffer[] chunks;
    private final long[] cStride, fStride;
    private static final int CHUNK_BITS = 30;

    Mapped(String dtype, int[] shape, long length, int item, boolean bigEndian, boolean fortran, java.nio.MappedByteBuffer[] chunks) {
      this.dtype = dtype; this.shape = shape; this.length = length; this.item = item; this.fortran = fortran;
      this.kind = java.util.Arrays.asList(KINDS).indexOf(dtype);
      if (kind < 0) throw new ChiveException("cannot read dtype " + dtype + " as numbers");
      this.chunks = chunks;
      for (java.nio.MappedByteBuffer c : chunks) c.order(bigEndian ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN);
      int k = shape.length;
      cStride = new long[k];
      fStride = new long[k];
      long c = 1, f = 1;
      for (int d = k - 1; d >= 0; d--) { cStride[d] = c; c *= shape[d]; }
      for (int d = 0; d < k; d++) { fStride[d] = f; f *= shape[d]; }
    }

    private long offset(long i) {
      if (i < 0 || i >= length) throw new ChiveException("element " + i + " is outside an array of " + length + " elements");
      if (!fortran || shape.length < 2) return i * item;
      long off = 0, rest = i;
      for (int d = 0; d < shape.length; d++) { long q = rest / cStride[d]; rest -= q * cStride[d]; off += q * fStride[d]; }
      return off * item;
    }

    /** Element {@code i} (C order) as a double. */
    public double get(long i) {
      long off = offset(i);
      java.nio.MappedByteBuffer b = chunks[(int) (off >>> CHUNK_BITS)];
      int p = (int) (off & ((1L << CHUNK_BITS) - 1));
      switch (kind) {
        case 0: return b.getFloat(p);
        case 1: return b.getDouble(p);
        case 2: return b.getShort(p);
        case 3: return b.getInt(p);
        case 4: return b.getLong(p);
        case 5: return b.get(p);
        case 6: case 7: return b.get(p) & 0xFF;
        case 8: return b.getShort(p) & 0xFFFF;
        default: return b.getInt(p) & 0xFFFFFFFFL;
      }
    }

    /** The numeric dtypes, in the order of get()'s cases (resolved once, not per element). */
    private static final String[] KINDS = {"<f4", "<f8", "<i2", "<i4", "<i8", "|i1", "|u1", "|b1", "<u2", "<u4"};

    /** Elements {@code from .. from+n-1} (C order) as floats. */
    public float[] floats(long from, int n) {
      if (n < 0 || from < 0 || from + n > length) {
        throw new ChiveException("elements " + from + ".." + (from + n - 1) + " are outside an array of " + length + " elements");
      }
      float[] out = new float[n];
      for (int k = 0; k < n; k++) out[k] = (float) get(from + k);
      return out;
    }

    /** Rows {@code from .. from+count-1} of the first dimension, as floats in C order. */
    public float[] rows(int from, int count) {
      long per = shape.length == 0 ? 1 : length / Math.max(1, shape[0]);
      if (shape.length == 0 || from < 0 || count < 0 || from + count > shape[0]) {
        throw new ChiveException("rows " + from + ".." + (from + count - 1) + " are outside shape " + java.util.Arrays.toString(shape));
      }
      if ((long) count * per > Integer.MAX_VALUE - 8) throw new ChiveException(count + " rows of " + per + " elements exceed one Java array");
      return floats(from * per, (int) (count * per));
    }
  }

  /** Memory-maps {@code file} (any size the file system allows); checks the header as {@link #read} does. */
  public static Mapped map(Path file) throws IOException {
    if (!Files.isRegularFile(file)) throw new ChiveException(file + ": no such file (expected a .npy array)");
    long fileSize = Files.size(file);
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      Header h = header(file.toString(), fileSize, (pos, len) -> readFully(ch, file, pos, len));
      if (h.dtype.startsWith("|S")) throw new ChiveException(file + ": a bytes-string array (" + h.dtype + ") cannot be memory-mapped as numbers");
      int nChunks = (int) ((h.need + (1L << 30) - 1) >>> 30);
      java.nio.MappedByteBuffer[] chunks = new java.nio.MappedByteBuffer[Math.max(1, nChunks)];
      for (int c = 0; c < chunks.length; c++) {
        long pos = h.dataStart + ((long) c << 30);
        long len = Math.min(1L << 30, h.need - ((long) c << 30));
        chunks[c] = ch.map(FileChannel.MapMode.READ_ONLY, pos, Math.max(0, len));
      }
      // the mapping stays valid after the channel closes
      return new Mapped(h.dtype, h.shape, h.n, h.item, h.bigEndian, h.fortran, chunks);
    }
  }

  private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']+)'");
  private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
  private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

  /** Largest header chive accepts (numpy writes a few hundred bytes). */
  private static final int MAX_HEADER = 1 << 20;
  private static final Pattern DIMS = Pattern.compile("\\s*(\\d+\\s*(,\\s*\\d+\\s*)*,?\\s*)?");

  /** A parsed header: the dtype as held, its item size, byte order and layout, the shape, where the data start. */
  static final class Header {
    final String dtype; // as held after reading: '<' for multi-byte kinds, '|' for one byte and strings
    final int item;
    final boolean bigEndian, fortran;
    final int[] shape;
    final long n, need, dataStart;

    Header(String dtype, int item, boolean bigEndian, boolean fortran, int[] shape, long n, long need, long dataStart) {
      this.dtype = dtype; this.item = item; this.bigEndian = bigEndian; this.fortran = fortran;
      this.shape = shape; this.n = n; this.need = need; this.dataStart = dataStart;
    }
  }

  /** Reads {@code len} bytes at {@code pos} of the source being parsed. */
  interface Source { ByteBuffer read(long pos, int len) throws IOException; }

  private static final Pattern STRING = Pattern.compile("\\|S(\\d{1,6})");

  /**
   * Parses and checks the header of an array of {@code fileSize} bytes named
   * {@code file}: magic string, version, dtype, shape, and that the data are
   * exactly as long as the shape says.
   */
  static Header header(String file, long fileSize, Source src) throws IOException {
    if (fileSize < 10) throw new ChiveException(file + ": truncated: " + fileSize + " bytes is shorter than a .npy header");
    ByteBuffer pre = src.read(0, (int) Math.min(12, fileSize));
    for (int k = 0; k < MAGIC.length; k++) {
      if (pre.get(k) != MAGIC[k]) throw new ChiveException(file + ": not a .npy file (bad magic string)");
    }
    int major = pre.get(6);
    long headerLen;
    int start;
    if (major == 1) {
      headerLen = pre.getShort(8) & 0xFFFF;
      start = 10;
    } else if (major == 2 || major == 3) {
      if (fileSize < 12) throw new ChiveException(file + ": truncated .npy header");
      headerLen = pre.getInt(8) & 0xFFFFFFFFL;
      start = 12;
    } else {
      throw new ChiveException(file + ": unsupported .npy version " + major);
    }
    if (headerLen > MAX_HEADER) throw new ChiveException(file + ": a .npy header of " + headerLen + " bytes is implausibly large");
    if (start + headerLen > fileSize) {
      throw new ChiveException(file + ": truncated: the header needs " + (start + headerLen) + " bytes, the file has " + fileSize);
    }
    ByteBuffer hb = src.read(start, (int) headerLen);
    byte[] hbytes = new byte[(int) headerLen];
    hb.get(0, hbytes);
    String header = new String(hbytes, StandardCharsets.ISO_8859_1);
    Matcher d = DESCR.matcher(header), f = FORTRAN.matcher(header), s = SHAPE.matcher(header);
    if (!d.find() || !f.find() || !s.find()) throw new ChiveException(file + ": malformed .npy header: " + header.trim());
    final String given = d.group(1);
    int item;
    final String dtype;
    boolean bigEndian = false;
    Matcher str = STRING.matcher(given);
    if (str.matches()) {
      // bytes strings (numpy's |S<n>), as SciPy's save_npz stores the matrix format
      item = Integer.parseInt(str.group(1));
      if (item < 1) throw new ChiveException(file + ": unsupported dtype " + given + " (" + SUPPORTED + ")");
      dtype = given;
    } else {
      // Either byte order for multi-byte kinds ('<' or '>'), '|' for one byte;
      // big-endian data is swapped to little-endian, so dtype names the data as held.
      if (given.length() != 3) throw new ChiveException(file + ": unsupported dtype " + given + " (" + SUPPORTED + ")");
      final char order = given.charAt(0);
      final String kind = given.substring(1);
      switch (kind) {
        case "f4": case "i4": case "u4": item = 4; break;
        case "f8": case "i8": item = 8; break;
        case "i2": case "u2": item = 2; break;
        case "u1": case "i1": case "b1": item = 1; break;
        default: throw new ChiveException(file + ": unsupported dtype " + given + " (" + SUPPORTED + ")");
      }
      if (item == 1 ? order != '|' && order != '<' && order != '>' : order != '<' && order != '>') {
        throw new ChiveException(file + ": unsupported byte order '" + order + "' in dtype " + given + " (" + SUPPORTED + ")");
      }
      dtype = (item == 1 ? "|" : "<") + kind;
      bigEndian = item > 1 && order == '>';
    }
    final boolean fortran = f.group(1).equals("True");
    String dimText = s.group(1);
    if (!DIMS.matcher(dimText).matches()) {
      throw new ChiveException(file + ": malformed shape (" + dimText.trim() + ") in the .npy header: expected whole numbers");
    }
    String[] dims = dimText.trim().isEmpty() ? new String[0] : dimText.split(",");
    java.util.List<Integer> shapeList = new java.util.ArrayList<>();
    long n = 1;
    for (String x : dims) {
      String t = x.trim();
      if (t.isEmpty()) continue;
      long dim;
      try {
        dim = Long.parseLong(t);
        n = Math.multiplyExact(n, dim);
      } catch (NumberFormatException | ArithmeticException e) {
        throw new ChiveException(file + ": shape (" + dimText.trim() + ") declares more elements than any array can hold");
      }
      if (dim > Integer.MAX_VALUE) throw new ChiveException(file + ": dimension " + t + " of shape (" + dimText.trim() + ") is too large");
      shapeList.add((int) dim);
    }
    int[] shape = shapeList.stream().mapToInt(Integer::intValue).toArray();
    long need;
    try {
      need = Math.multiplyExact(n, item);
    } catch (ArithmeticException e) {
      throw new ChiveException(file + ": shape " + java.util.Arrays.toString(shape) + " declares more data than any file can hold");
    }
    long dataStart = start + headerLen;
    if (fileSize - dataStart != need) {
      throw new ChiveException(file + ": " + (fileSize - dataStart < need ? "truncated" : "too long")
          + ": shape " + java.util.Arrays.toString(shape) + " of " + dtype + " needs " + need
          + " bytes of data, found " + (fileSize - dataStart));
    }
    return new Header(dtype, item, bigEndian, fortran, shape, n, need, dataStart);
  }

  private static Array body(String file, Header h, Source src) throws IOException {
    if (h.n > Integer.MAX_VALUE - 8 || h.need > Integer.MAX_VALUE - 8) {
      throw new ChiveException(file + ": " + h.n + " elements (" + h.need + " bytes) exceed what one Java array holds (2^31 - 9);"
          + " memory-map it instead (Npy.map, chive.io/npy-map)");
    }
    checkHeap(file, (h.fortran ? 3 : 2) * h.need);
    ByteBuffer data = src.read(h.dataStart, (int) h.need);
    byte[] raw = new byte[(int) h.need];
    data.get(0, raw);
    if (h.bigEndian) swapBytes(raw, h.item);
    byte[] c = h.fortran && h.shape.length > 1 ? fortranToC(raw, h.shape, h.item) : raw;
    return new Array(h.dtype, h.shape, ByteBuffer.wrap(c).order(ByteOrder.LITTLE_ENDIAN));
  }

  /**
   * Reads {@code file}; throws ChiveException naming the file for anything
   * malformed, truncated or too large. The header is read and checked first,
   * so a file that declares an impossible size is refused before anything
   * is allocated for its data.
   */
  public static Array read(Path file) throws IOException {
    if (!Files.isRegularFile(file)) throw new ChiveException(file + ": no such file (expected a .npy array)");
    long fileSize = Files.size(file);
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      Source src = (pos, len) -> readFully(ch, file, pos, len);
      return body(file.toString(), header(file.toString(), fileSize, src), src);
    }
  }

  /** Parses a whole .npy held in memory (an entry of an .npz); {@code name} names it in errors. */
  public static Array parse(byte[] npy, String name) throws IOException {
    Source src = (pos, len) -> {
      if (pos + len > npy.length) throw new ChiveException(name + ": truncated while reading");
      return ByteBuffer.wrap(npy, (int) pos, len).slice().order(ByteOrder.LITTLE_ENDIAN);
    };
    return body(name, header(name, npy.length, src), src);
  }

  private static final String SUPPORTED =
      "chive reads float32/64, int8/16/32/64, uint8/16/32, bool and bytes strings, either byte order, C or Fortran order: <f4 <f8 <i1 <i2 <i4 <i8 <u1 <u2 <u4 |b1 |S<n> and their > forms";

  /** Reverses the bytes of every item of {@code size} bytes in place (big- to little-endian). */
  static void swapBytes(byte[] a, int size) {
    for (int o = 0; o + size <= a.length; o += size) {
      for (int i = 0, j = size - 1; i < j; i++, j--) {
        byte t = a[o + i];
        a[o + i] = a[o + j];
        a[o + j] = t;
      }
    }
  }

  /**
   * The items of a Fortran-ordered (first index fastest) array of
   * {@code shape} rearranged into C order (last index fastest).
   */
  static byte[] fortranToC(byte[] f, int[] shape, int size) {
    final int k = shape.length;
    byte[] c = new byte[f.length];
    long[] stride = new long[k]; // Fortran strides in items
    long st = 1;
    for (int i = 0; i < k; i++) { stride[i] = st; st *= shape[i]; }
    int[] idx = new int[k];
    long n = st;
    long fo = 0;
    for (long ci = 0; ci < n; ci++) {
      System.arraycopy(f, (int) (fo * size), c, (int) (ci * size), size);
      // advance the C-order multi-index (last fastest), keeping the Fortran offset
      for (int i = k - 1; i >= 0; i--) {
        if (++idx[i] < shape[i]) { fo += stride[i]; break; }
        fo -= stride[i] * (shape[i] - 1);
        idx[i] = 0;
      }
    }
    return c;
  }

  /** Throws, naming the file, when {@code bytes} more would not fit the heap. */
  static void checkHeap(Object file, long bytes) {
    Runtime rt = Runtime.getRuntime();
    long free = rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
    if (bytes > free) {
      throw new ChiveException(file + ": reading it needs about " + (bytes >> 20) + " MiB but only " + (free >> 20)
          + " MiB of heap are free (max " + (rt.maxMemory() >> 20) + " MiB); raise -Xmx (CHIVE_JVM_OPTS=-Xmx8g)");
    }
  }

  private static ByteBuffer readFully(FileChannel ch, Path file, long pos, int len) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(len).order(ByteOrder.LITTLE_ENDIAN);
    while (b.hasRemaining()) {
      int r = ch.read(b, pos + b.position());
      if (r < 0) throw new ChiveException(file + ": truncated while reading (the file shrank?)");
    }
    b.flip();
    return b;
  }
}
