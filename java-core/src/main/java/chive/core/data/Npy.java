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
    if (a instanceof float[]) write(file, (float[]) a);
    else if (a instanceof double[]) write(file, (double[]) a);
    else if (a instanceof int[]) write(file, (int[]) a);
    else if (a instanceof long[]) write(file, (long[]) a);
    else if (a instanceof short[]) write(file, (short[]) a);
    else if (a instanceof byte[]) write(file, (byte[]) a);
    else if (a instanceof boolean[]) write(file, (boolean[]) a);
    else throw new ChiveException(file + ": cannot write " + (a == null ? "null" : a.getClass().getSimpleName()) + " as NPY");
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
    Files.write(file, out.array());
  }

  private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']+)'");
  private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
  private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

  /** Largest header chive accepts (numpy writes a few hundred bytes). */
  private static final int MAX_HEADER = 1 << 20;
  private static final Pattern DIMS = Pattern.compile("\\s*(\\d+\\s*(,\\s*\\d+\\s*)*,?\\s*)?");

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
      if (fileSize < 10) throw new ChiveException(file + ": truncated: " + fileSize + " bytes is shorter than a .npy header");
      ByteBuffer pre = readFully(ch, file, 0, (int) Math.min(12, fileSize));
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
      ByteBuffer hb = readFully(ch, file, start, (int) headerLen);
      String header = new String(hb.array(), 0, (int) headerLen, StandardCharsets.ISO_8859_1);
      Matcher d = DESCR.matcher(header), f = FORTRAN.matcher(header), s = SHAPE.matcher(header);
      if (!d.find() || !f.find() || !s.find()) throw new ChiveException(file + ": malformed .npy header: " + header.trim());
      final String given = d.group(1);
      // Either byte order for multi-byte kinds ('<' or '>'), '|' for one byte;
      // big-endian data is swapped to little-endian below, so dtype names
      // the data as held.
      if (given.length() != 3) throw new ChiveException(file + ": unsupported dtype " + given + " (" + SUPPORTED + ")");
      final char order = given.charAt(0);
      final String kind = given.substring(1);
      int item;
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
      final String dtype = (item == 1 ? "|" : "<") + kind;
      final boolean bigEndian = item > 1 && order == '>';
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
      if (n > Integer.MAX_VALUE - 8 || need > Integer.MAX_VALUE - 8) {
        throw new ChiveException(file + ": " + n + " elements (" + need + " bytes) exceed what one Java array holds (2^31 - 9)");
      }
      checkHeap(file, (fortran ? 3 : 2) * need);
      ByteBuffer data = readFully(ch, file, dataStart, (int) need);
      if (bigEndian) swapBytes(data.array(), item);
      byte[] c = fortran && shape.length > 1 ? fortranToC(data.array(), shape, item) : data.array();
      return new Array(dtype, shape, ByteBuffer.wrap(c).order(ByteOrder.LITTLE_ENDIAN));
    }
  }

  private static final String SUPPORTED =
      "chive reads float32/64, int8/16/32/64, uint8/16/32 and bool, either byte order, C or Fortran order: <f4 <f8 <i1 <i2 <i4 <i8 <u1 <u2 <u4 |b1 and their > forms";

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
  static void checkHeap(Path file, long bytes) {
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
