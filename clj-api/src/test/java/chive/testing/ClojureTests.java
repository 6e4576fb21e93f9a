package chive.testing;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.TestFactory;

/** Every clojure.test suite under clj-api/src/test/clojure, as JUnit 5 dynamic tests. */
class ClojureTests {
  @TestFactory
  List<DynamicNode> clojureTests() {
    String dir = System.getProperty("chive.clojure.test.dir", "src/test/clojure");
    return ClojureTestBridge.nodes(ClojureTestBridge.discoverNamespaces(Path.of(dir)));
  }
}
