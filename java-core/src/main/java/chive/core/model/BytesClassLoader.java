package chive.core.model;

import java.util.Map;

/** Loads classes from bytes compiled in memory (models written in chive's DSL). */
public final class BytesClassLoader extends ClassLoader {
  private final Map<String, byte[]> classes;

  public BytesClassLoader(ClassLoader parent, Map<String, byte[]> classes) {
    super(parent);
    this.classes = Map.copyOf(classes);
  }

  @Override
  protected Class<?> findClass(String name) throws ClassNotFoundException {
    byte[] b = classes.get(name);
    if (b == null) throw new ClassNotFoundException(name);
    return defineClass(name, b, 0, b.length);
  }
}
