-- A deterministic SQL workload for the LD_PRELOAD test (sqlite3 :memory:).
-- Everything lives in malloc'd memory: the page cache, the temp store for
-- sorts, the strings. Run on glibc's malloc and with libtricolor
-- preloaded; the output must be identical.
PRAGMA cache_size = -131072;
PRAGMA temp_store = MEMORY;

CREATE TABLE customers(id INTEGER PRIMARY KEY, name TEXT, city TEXT, score REAL);
CREATE TABLE orders(id INTEGER PRIMARY KEY, customer_id INT, amount INT, note TEXT, day INT);
CREATE TABLE tags(order_id INT, tag TEXT);

WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 20000)
INSERT INTO customers
SELECT x, 'customer-' || x, 'city' || (x * 7919 % 97), (x * 31337 % 1000) / 10.0 FROM c;

WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 200000)
INSERT INTO orders
SELECT x, (x * 48271 % 20000) + 1, (x * 16807 % 10007),
       substr(replace(hex(zeroblob(300)), '0', 'n'), 1, x % 300), x % 365
FROM c;

WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 150000)
INSERT INTO tags SELECT (x * 69621 % 200000) + 1, 'tag' || (x % 113) FROM c;

CREATE INDEX orders_customer ON orders(customer_id);
CREATE INDEX orders_day ON orders(day, amount);
CREATE INDEX tags_order ON tags(order_id, tag);

SELECT 'totals', count(*), sum(amount), sum(length(note)) FROM orders;

SELECT 'by city', c.city, count(*), sum(o.amount), max(o.amount)
FROM orders o JOIN customers c ON c.id = o.customer_id
GROUP BY c.city ORDER BY sum(o.amount) DESC, c.city LIMIT 12;

SELECT 'top tags', t.tag, count(DISTINCT o.customer_id), sum(o.amount)
FROM tags t JOIN orders o ON o.id = t.order_id
GROUP BY t.tag ORDER BY 3 DESC, 1 LIMIT 10;

SELECT 'ranked', day, id, amount, rnk FROM (
  SELECT day, id, amount, rank() OVER (PARTITION BY day ORDER BY amount DESC, id) AS rnk FROM orders
) WHERE rnk <= 2 AND day < 6 ORDER BY day, rnk;

SELECT 'running', id, sum(amount) OVER (ORDER BY id ROWS BETWEEN 50 PRECEDING AND CURRENT ROW)
FROM orders WHERE id % 5000 = 0 ORDER BY id;

SELECT 'concat', length(group_concat(note, ',')), length(group_concat(name, ';'))
FROM orders JOIN customers ON customers.id = orders.customer_id;

SELECT 'json', length(json_group_array(json_object('id', id, 'name', name, 'score', score))),
       json_extract(json_group_array(json_object('id', id)), '$[1234].id')
FROM customers;

SELECT 'sorted', sum(k) FROM (SELECT amount * day AS k FROM orders ORDER BY note DESC, amount LIMIT 20000);

UPDATE orders SET note = upper(note) || printf('%08d', amount) WHERE amount % 7 = 0;
DELETE FROM orders WHERE amount % 3 = 0;
DELETE FROM tags WHERE order_id NOT IN (SELECT id FROM orders);
SELECT 'after delete', count(*), sum(amount), sum(length(note)) FROM orders;

VACUUM;
SELECT 'integrity', * FROM pragma_integrity_check;

SELECT 'customers without orders', count(*) FROM customers c
WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.id);

WITH RECURSIVE fib(n, a, b) AS (SELECT 1, 0, 1 UNION ALL SELECT n + 1, b, a + b FROM fib WHERE n < 80)
SELECT 'fib', max(b) FROM fib;

SELECT 'strings', count(*), sum(length(s)) FROM (
  SELECT group_concat(tag, '|') AS s FROM tags GROUP BY order_id % 997
);
