{#-
    shop_spark_file_relation: on Spark with the var `shop_input_path` set, an input table
    is the Parquet file `<shop_input_path>/<table>.parquet` (a local folder or a cloud
    storage path), read with Spark's `parquet.<path>` and conformed to the contract like a
    DuckDB input file: columns matched by name, a missing required column stops the build,
    a missing optional one is null, number and timestamp columns stored as text are parsed.
    Spark SQL cannot ask whether a file exists, so every table that is switched on must be
    there: switch an absent optional table off with `shop_using_<table>: false`. Without
    `shop_input_path`, Spark reads the tables `shop_schema`.<table> like other warehouses.
-#}
{% macro shop_spark_file_relation(input_path, table_name, required) %}
    {%- set file = input_path.rstrip('/') ~ '/' ~ table_name ~ '.parquet' -%}
    {%- set reader = 'parquet.`' ~ file | replace('`', '``') ~ '`' -%}
    {%- set found_columns = shop_relation_columns(reader) -%}
    {%- set label = table_name ~ '.parquet' -%}
    {{ return(shop_conformed_relation(reader, label, table_name, found_columns, true)) }}
{% endmacro %}
