package chive.core.sim;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/** Helpers for {@link Stateful} implementations: checked copies of saved arrays. */
public final class State {
  private State() {}

  /** A short description of an array's type and length, e.g. "float32[400]". */
  public static String describe(Object a) {
    if (a instanceof float[]) return "float32[" + ((float[]) a).length + "]";
    if (a instanceof double[]) return "float64[" + ((double[]) a).length + "]";
    if (a instanceof int[]) return "int32[" + ((int[]) a).length + "]";
    if (a instanceof long[]) return "int64[" + ((long[]) a).length + "]";
    return a == null ? "nothing" : a.getClass().getSimpleName();
  }

  /** Length of a primitive array of one of the four types. */
  public static int length(Object a) {
    if (a instanceof float[]) return ((float[]) a).length;
    if (a instanceof double[]) return ((double[]) a).length;
    if (a instanceof int[]) return ((int[]) a).length;
    if (a instanceof long[]) return ((long[]) a).length;
    throw new ChiveException("not a float[], double[], int[] or long[]: " + describe(a));
  }

  /**
   * Checks that {@code saved} has exactly the names of {@code expected} (no
   * missing, no unknown array), naming {@code owner} and the difference.
   */
  public static void sameNames(String owner, Map<String, ?> expected, Map<String, ?> saved) {
    if (expected.keySet().equals(saved.keySet())) return;
    TreeSet<String> missing = new TreeSet<>(expected.keySet());
    missing.removeAll(saved.keySet());
    TreeSet<String> extra = new TreeSet<>(saved.keySet());
    extra.removeAll(expected.keySet());
    List<String> what = new ArrayList<>();
    if (!missing.isEmpty()) what.add("lacks " + missing);
    if (!extra.isEmpty()) what.add("has unknown " + extra);
    throw new ChiveException(owner + ": the saved state " + String.join(" and ", what) + "; expected the arrays "
        + expected.keySet());
  }

  /** Copies {@code src} into {@code dst}: same type and length, or an error naming both. */
  public static void copy(String owner, String name, Object src, Object dst) {
    if (src == null || dst == null || src.getClass() != dst.getClass() || length(src) != length(dst)) {
      throw new ChiveException(owner + ": saved array '" + name + "' is " + describe(src) + ", expected " + describe(dst));
    }
    System.arraycopy(src, 0, dst, 0, length(src));
  }

  /** A float[] (or error naming it) from saved arrays. */
  public static float[] floats(String owner, Map<String, Object> saved, String name) {
    Object a = saved.get(name);
    if (!(a instanceof float[])) throw new ChiveException(owner + ": saved array '" + name + "' is " + describe(a) + ", expected float32");
    return (float[]) a;
  }

  /** A double[] (or error naming it) from saved arrays. */
  public static double[] doubles(String owner, Map<String, Object> saved, String name) {
    Object a = saved.get(name);
    if (!(a instanceof double[])) throw new ChiveException(owner + ": saved array '" + name + "' is " + describe(a) + ", expected float64");
    return (double[]) a;
  }

  /** An int[] (or error naming it) from saved arrays. */
  public static int[] ints(String owner, Map<String, Object> saved, String name) {
    Object a = saved.get(name);
    if (!(a instanceof int[])) throw new ChiveException(owner + ": saved array '" + name + "' is " + describe(a) + ", expected int32");
    return (int[]) a;
  }

  /**
   * Restores a part whose {@link Stateful#arrays} are all live: the names
   * must match exactly and each array is copied into place.
   */
  public static void restoreLive(String owner, Map<String, Object> live, Map<String, Object> saved) {
    sameNames(owner, live, saved);
    // Check every array before writing any, so that a refused restore changes nothing.
    for (Map.Entry<String, Object> e : live.entrySet()) {
      Object src = saved.get(e.getKey()), dst = e.getValue();
      if (src == null || src.getClass() != dst.getClass() || length(src) != length(dst)) {
        throw new ChiveException(owner + ": saved array '" + e.getKey() + "' is " + describe(src) + ", expected " + describe(dst));
      }
    }
    for (Map.Entry<String, Object> e : live.entrySet()) copy(owner, e.getKey(), saved.get(e.getKey()), e.getValue());
  }

  /** An ordered map, for config() and arrays() implementations. */
  public static Map<String, Object> map(Object... kv) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (int k = 0; k < kv.length; k += 2) m.put((String) kv[k], kv[k + 1]);
    return m;
  }
}
