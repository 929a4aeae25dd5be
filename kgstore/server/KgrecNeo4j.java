// Runs an embedded Neo4j 5.26 DBMS with the Bolt connector on 127.0.0.1, so that
// machines without Docker or a server package still get a real server.
// Run in Java's source-file mode; configuration comes from the environment.
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;
import org.neo4j.graphdb.GraphDatabaseService;
import org.neo4j.io.ByteUnit;

public final class KgrecNeo4j {
    private static String env(String name, String fallback) {
        String value = System.getenv(name);
        if (value == null || value.isEmpty()) {
            if (fallback == null) {
                System.err.println("kgrec-neo4j: environment variable " + name + " is required");
                System.exit(2);
            }
            return fallback;
        }
        return value;
    }

    public static void main(String[] args) throws Exception {
        Path home = Path.of(env("KGREC_NEO4J_DATA", null));
        int port = Integer.parseInt(env("KGREC_NEO4J_PORT", "7687"));
        long pageCacheMb = Long.parseLong(env("KGREC_NEO4J_PAGECACHE_MB", "1024"));
        String user = env("NEO4J_USER", "neo4j");
        String password = env("NEO4J_PASSWORD", null);

        DatabaseManagementService dbms = new DatabaseManagementServiceBuilder(home)
            .setConfig(BoltConnector.enabled, true)
            .setConfig(BoltConnector.listen_address, new SocketAddress("127.0.0.1", port))
            .setConfig(GraphDatabaseSettings.auth_enabled, true)
            .setConfig(GraphDatabaseSettings.pagecache_memory, ByteUnit.mebiBytes(pageCacheMb))
            .build();
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.out.println("kgrec-neo4j: shutting down");
            dbms.shutdown();
            System.out.println("kgrec-neo4j: stopped");
            stopped.countDown();
        }));
        setCredentials(dbms.database("system"), user, password);
        System.out.println("kgrec-neo4j: ready on bolt://127.0.0.1:" + port);
        System.out.flush();
        stopped.await();
    }

    // The embedded API bypasses Bolt auth, so the credentials from the environment are
    // applied here on every start; the environment stays the single source of truth.
    private static void setCredentials(GraphDatabaseService system, String user, String password) {
        Map<String, Object> params = Map.of("user", user, "pw", password);
        system.executeTransactionally(
            "CREATE USER $user IF NOT EXISTS SET PASSWORD $pw CHANGE NOT REQUIRED", params);
        try {
            system.executeTransactionally(
                "ALTER USER $user SET PASSWORD $pw CHANGE NOT REQUIRED", params);
        } catch (RuntimeException e) {
            String message = String.valueOf(e.getMessage());
            if (!message.contains("cannot be the same")) {
                throw e;
            }
        }
        // Under another user name the built-in `neo4j` user would keep its well-known
        // default password; it is removed, so the configured credentials are the only ones.
        if (!"neo4j".equals(user)) {
            system.executeTransactionally("DROP USER neo4j IF EXISTS");
        }
    }
}
