package io.pgfleet.server.support;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;

/** Connects to an instance the way a user does: TCP, a user name and its password. */
public final class Postgres {
    private Postgres() {}

    public static Connection connect(int port, String database, String user, String password) throws SQLException {
        Properties props = new Properties();
        props.setProperty("user", user);
        props.setProperty("password", password);
        props.setProperty("connectTimeout", "5");
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/" + database, props);
    }

    /** Through PgBouncer in transaction mode: no named server-side prepared statements. */
    public static Connection connectPooled(int port, String database, String user, String password)
            throws SQLException {
        Properties props = new Properties();
        props.setProperty("user", user);
        props.setProperty("password", password);
        props.setProperty("connectTimeout", "5");
        props.setProperty("prepareThreshold", "0");
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/" + database, props);
    }

    public static String queryOne(Connection connection, String sql) throws SQLException {
        try (Statement statement = connection.createStatement();
                ResultSet rows = statement.executeQuery(sql)) {
            return rows.next() ? rows.getString(1) : null;
        }
    }

    public static void execute(Connection connection, String sql) throws SQLException {
        try (Statement statement = connection.createStatement()) {
            statement.execute(sql);
        }
    }

    /** A user's login, for instances named by JDBC URL (a fleet's instances listen on several addresses). */
    public static Login login(String user, String password, int socketTimeoutSeconds) {
        return new Login(user, password, socketTimeoutSeconds);
    }

    public record Login(String user, String password, int socketTimeoutSeconds) {
        public Connection connect(String url) throws SQLException {
            Properties props = new Properties();
            props.setProperty("user", user);
            props.setProperty("password", password);
            props.setProperty("connectTimeout", "5");
            props.setProperty("socketTimeout", Integer.toString(socketTimeoutSeconds));
            return DriverManager.getConnection(url, props);
        }

        /** Runs each statement, in order, on one connection. */
        public void execute(String url, String... sql) throws SQLException {
            try (Connection c = connect(url);
                    Statement st = c.createStatement()) {
                for (String s : sql) {
                    st.execute(s);
                }
            }
        }

        /** The first column of the first row (null when there is none). */
        public String query(String url, String sql) throws SQLException {
            try (Connection c = connect(url)) {
                return queryOne(c, sql);
            }
        }
    }

    /** Whether something accepts TCP connections on the port (loopback). */
    public static boolean isListening(int port) {
        try (java.net.Socket socket = new java.net.Socket()) {
            socket.connect(new java.net.InetSocketAddress("127.0.0.1", port), 500);
            return true;
        } catch (java.io.IOException e) {
            return false;
        }
    }
}
