package chive.testing;

import clojure.java.api.Clojure;
import clojure.lang.IFn;
import clojure.lang.Keyword;
import clojure.lang.Symbol;
import clojure.lang.Var;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.opentest4j.AssertionFailedError;

/**
 * Bridges clojure.test into JUnit 5: one dynamic container per test namespace,
 * one dynamic test per deftest, so that Surefire counts Clojure tests beside
 * Java ones. A failing {@code is} (which does not throw in clojure.test), a
 * deftest that throws, and a namespace that fails to load each become a
 * failing JUnit test.
 */
public final class ClojureTestBridge {
  private ClojureTestBridge() {}

  private static final Keyword TYPE = Keyword.intern("type");
  private static final Keyword TEXT = Keyword.intern("text");
  private static final Keyword ACTUAL = Keyword.intern("actual");
  private static final Keyword ERROR = Keyword.intern("error");

  private static IFn require;
  private static IFn testVars;
  private static IFn runTestVar;

  private static synchronized void init() {
    if (runTestVar != null) return;
    require = Clojure.var("clojure.core", "require");
    require.invoke(Symbol.intern("chive-test-support.bridge"));
    testVars = Clojure.var("chive-test-support.bridge", "test-vars");
    runTestVar = Clojure.var("chive-test-support.bridge", "run-test-var");
  }

  /** The namespaces of the .clj files under {@code root}, sorted; Clojure's file-name rules reversed. */
  public static List<String> discoverNamespaces(Path root) {
    if (!Files.isDirectory(root)) {
      throw new IllegalArgumentException("clojure test directory does not exist: " + root.toAbsolutePath());
    }
    try (Stream<Path> files = Files.walk(root)) {
      return files
          .filter(p -> p.toString().endsWith(".clj"))
          .map(p -> {
            String rel = root.relativize(p).toString();
            rel = rel.substring(0, rel.length() - ".clj".length());
            return rel.replace(java.io.File.separatorChar, '.').replace('_', '-');
          })
          .sorted()
          .collect(Collectors.toList());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list clojure tests under " + root, e);
    }
  }

  /** One node per namespace: a container of its deftests, or a failing test if it does not load. */
  public static List<DynamicNode> nodes(List<String> namespaces) {
    return nodes(namespaces, true);
  }

  /** As {@link #nodes(List)}; {@code echo} false keeps clojure.test's report out of the build log. */
  public static List<DynamicNode> nodes(List<String> namespaces, boolean echo) {
    init();
    List<DynamicNode> out = new ArrayList<>();
    for (String ns : namespaces) {
      out.add(nodeFor(ns, echo));
    }
    return out;
  }

  private static DynamicNode nodeFor(String ns, boolean echo) {
    Symbol sym = Symbol.intern(ns);
    try {
      require.invoke(sym);
    } catch (Throwable t) {
      return DynamicTest.dynamicTest("load " + ns, () -> {
        throw new AssertionFailedError("clojure test namespace " + ns + " failed to load: " + t, t);
      });
    }
    List<DynamicTest> tests = new ArrayList<>();
    for (Object o : (Iterable<?>) testVars.invoke(sym)) {
      Var v = (Var) o;
      tests.add(DynamicTest.dynamicTest(ns + "/" + v.sym.getName(), () -> runOne(ns, v, echo)));
    }
    return DynamicContainer.dynamicContainer(ns, tests);
  }

  private static void runOne(String ns, Var v, boolean echo) {
    List<?> problems = (List<?>) runTestVar.invoke(v, echo);
    if (problems.isEmpty()) return;
    StringBuilder msg = new StringBuilder();
    Throwable cause = null;
    for (Object p : problems) {
      Map<?, ?> m = (Map<?, ?>) p;
      msg.append(m.get(TEXT));
      if (cause == null && ERROR.equals(m.get(TYPE)) && m.get(ACTUAL) instanceof Throwable) {
        cause = (Throwable) m.get(ACTUAL);
      }
    }
    String head = ns + "/" + v.sym.getName() + ": " + problems.size() + " problem(s)\n";
    throw new AssertionFailedError(head + msg, cause);
  }
}
