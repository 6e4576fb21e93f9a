package chive.core.kernel;

/**
 * Whether chive's SIMD kernels (the JDK Vector API, incubator module
 * jdk.incubator.vector) are used: the module is in the boot layer (bin/chive,
 * the build and the deps.edn aliases add {@code --add-modules
 * jdk.incubator.vector}) and the system property {@code chive.vector} is not
 * "false". Every SIMD kernel gives the bits of its scalar form, which runs
 * otherwise; classes that touch the module are loaded only when this is true.
 */
public final class Simd {
  private Simd() {}

  public static final boolean ENABLED = !"false".equals(System.getProperty("chive.vector"))
      && ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
}
