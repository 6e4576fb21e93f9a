package chive.testing;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.opentest4j.AssertionFailedError;

/**
 * The bridge's own tests: fixture namespaces under src/test/bridge-fixtures
 * (on the test classpath, but not discovered by {@link ClojureTests}) that
 * fail in each of the ways the build must catch.
 */
class ClojureTestBridgeTest {

  /** Name of each dynamic test in the node for {@code ns}, to its executable. */
  private static Map<String, Executable> testsOf(String ns) {
    List<DynamicNode> nodes = ClojureTestBridge.nodes(List.of(ns), false);
    assertEquals(1, nodes.size());
    Map<String, Executable> out = new TreeMap<>();
    DynamicNode node = nodes.get(0);
    if (node instanceof DynamicTest) {
      out.put(node.getDisplayName(), ((DynamicTest) node).getExecutable());
    } else {
      ((DynamicContainer) node).getChildren().forEach(c ->
          out.put(c.getDisplayName(), ((DynamicTest) c).getExecutable()));
    }
    return out;
  }

  @Test
  void aFailingIsFailsItsTestAndOnlyThatTest() throws Throwable {
    Map<String, Executable> tests = testsOf("chive.bridge-fixtures.failing-is");
    assertEquals(List.of("chive.bridge-fixtures.failing-is/fails-an-is", "chive.bridge-fixtures.failing-is/passes"),
        List.copyOf(tests.keySet()));
    tests.get("chive.bridge-fixtures.failing-is/passes").execute();
    AssertionFailedError e = assertThrows(AssertionFailedError.class,
        tests.get("chive.bridge-fixtures.failing-is/fails-an-is")::execute);
    assertTrue(e.getMessage().contains("expected: (= 3 (+ 1 1))"), e.getMessage());
    assertTrue(e.getMessage().contains("arithmetic"), "testing context is reported: " + e.getMessage());
  }

  @Test
  void aThrowingDeftestFailsWithItsException() {
    Map<String, Executable> tests = testsOf("chive.bridge-fixtures.throwing");
    AssertionFailedError e = assertThrows(AssertionFailedError.class, tests.get("chive.bridge-fixtures.throwing/throws")::execute);
    assertNotNull(e.getCause());
    assertEquals("boom from a fixture deftest", e.getCause().getMessage());
  }

  @Test
  void aNamespaceThatFailsToLoadFails() {
    Map<String, Executable> tests = testsOf("chive.bridge-fixtures.broken-load");
    assertEquals(List.of("load chive.bridge-fixtures.broken-load"), List.copyOf(tests.keySet()));
    AssertionFailedError e = assertThrows(AssertionFailedError.class,
        tests.get("load chive.bridge-fixtures.broken-load")::execute);
    assertTrue(e.getMessage().contains("chive.bridge-fixtures.broken-load"), e.getMessage());
  }

  @Test
  void fixturesWrapEachTest() throws Throwable {
    Map<String, Executable> tests = testsOf("chive.bridge-fixtures.with-fixture");
    tests.get("chive.bridge-fixtures.with-fixture/sees-fixture-binding").execute();
  }

  @Test
  void discoveryMapsFileNamesToNamespaces() {
    String dir = System.getProperty("chive.clojure.test.dir", "src/test/clojure");
    List<String> found = ClojureTestBridge.discoverNamespaces(Path.of(dir));
    assertTrue(found.contains("chive.versions-test"), found.toString());
    assertTrue(found.stream().noneMatch(s -> s.contains("bridge-fixtures")), found.toString());
    assertThrows(IllegalArgumentException.class,
        () -> ClojureTestBridge.discoverNamespaces(Path.of("no/such/dir")));
  }
}
