{#-
    shop_source(table_name, columns): the relation to read one input table from.

    * On DuckDB the table is a file in the folder `shop_input_path` (null:
      $SHOPSEG_INPUT_PATH, else data/demo):
      `<table>.parquet` is preferred, `<table>.csv` is read otherwise (delimiter detected,
      encoding from the var `shop_csv_encoding`, default utf-8).
    * On other warehouses it is the dbt source `shop.<table>` (database/schema from the
      `shop_database` / `shop_schema` vars, Fivetran style); on Spark with `shop_input_path`
      set, the file `<table>.parquet` of that folder (shop_source_spark.sql).
    * An optional table that is switched off (`shop_using_<table>: false`) or absent
      becomes an empty relation with the contract's columns, so the features that need it
      come out null and the segmenter leaves them out.

    The input is checked against the contract before anything reads it, and a problem the
    build cannot repair stops it with one line naming the table, the column and the
    problem (`shopseg: input orders.parquet: required column order_total is missing ...`):
    a required column that is absent, a number or timestamp column none of whose values
    parses, a CSV that is not in the expected encoding. An optional column that is absent
    is read as null; column names match without regard to case or surrounding spaces.

    `columns` is the contract: {column name: type} (shop_contract); the relation returned
    has exactly those columns, in that order.
-#}
{% macro shop_source(table_name, columns, required=false) %}
    {%- set src = source('shop', table_name) -%}
    {%- set enabled = required or var('shop_using_' ~ table_name, true) -%}
    {%- if not enabled -%}
        {{ return(shop_empty_relation(columns)) }}
    {%- endif -%}
    {#- The lint target (sqlfluff) compiles against the source, never the files. -#}
    {%- if target.name == 'lint' -%}
        {{ return(src) }}
    {%- endif -%}
    {%- if target.type == 'duckdb' -%}
        {%- set input_path = var('shop_input_path', none)
            or env_var('SHOPSEG_INPUT_PATH', 'data/demo') -%}
        {{ return(shop_file_relation(input_path, table_name, columns, required)) }}
    {%- endif -%}
    {%- if not execute -%}
        {{ return(src) }}
    {%- endif -%}
    {%- if target.type in ('spark', 'databricks') and var('shop_input_path', none) -%}
        {{ return(shop_spark_file_relation(var('shop_input_path'), table_name, columns, required)) }}
    {%- endif -%}
    {{ return(shop_warehouse_relation(src, table_name, columns, required)) }}
{% endmacro %}


{% macro shop_empty_relation(columns) %}
    {%- set cols = [] -%}
    {%- for name, data_type in columns.items() -%}
        {%- do cols.append('cast(null as ' ~ data_type ~ ') as ' ~ name) -%}
    {%- endfor -%}
    {{ return('(select ' ~ cols | join(', ') ~ ' where 1 = 0) as shop_empty') }}
{% endmacro %}


{#- A table of the warehouse (any adapter): checked for its columns, not its values. -#}
{% macro shop_warehouse_relation(src, table_name, columns, required) %}
    {%- set found = [] -%}
    {%- for column in adapter.get_columns_in_relation(src) -%}
        {%- do found.append((column.name, column.data_type)) -%}
    {%- endfor -%}
    {%- if found | length == 0 -%}
        {%- if required -%}
            {{ exceptions.raise_compiler_error(
                "shopseg: input table " ~ src ~ " not found: load it or set the vars "
                ~ "shop_database / shop_schema") }}
        {%- endif -%}
        {{ log("shopseg: optional input table " ~ src ~ " not found; its features will be null",
            info=true) }}
        {{ return(shop_empty_relation(columns)) }}
    {%- endif -%}
    {{ return(shop_conformed_relation(src, src, table_name, columns, found, false)) }}
{% endmacro %}


{% macro shop_file_relation(input_path, table_name, columns, required) %}
    {%- set base = input_path.rstrip('/') ~ '/' ~ table_name -%}
    {%- if not execute -%}
        {{ return("read_parquet('" ~ base ~ ".parquet')") }}
    {%- endif -%}
    {%- set file = shop_input_file(input_path, table_name) -%}
    {%- if file is none -%}
        {%- if required -%}
            {{ exceptions.raise_compiler_error(
                "shopseg: input table '" ~ table_name ~ "' not found: expected "
                ~ base ~ ".parquet or " ~ base ~ ".csv (shop_input_path = '" ~ input_path ~ "')"
            ) }}
        {%- endif -%}
        {{ log("shopseg: optional input table '" ~ table_name ~ "' not found in "
            ~ input_path ~ "; its features will be null", info=true) }}
        {{ return(shop_empty_relation(columns)) }}
    {%- endif -%}
    {%- set label = file.split('/')[-1] -%}
    {%- if file.endswith('.csv') -%}
        {%- do shop_check_csv_encoding(file, label, table_name) -%}
    {%- endif -%}
    {%- set reader = shop_file_reader(file) -%}
    {%- set described = run_query('describe select * from ' ~ reader) -%}
    {%- set found_columns = [] -%}
    {%- for row in described.rows -%}
        {%- do found_columns.append((row[0], row[1])) -%}
    {%- endfor -%}
    {%- if not shop_file_has_rows(file) -%}
        {{ log("shopseg: input " ~ label ~ " has no rows"
            ~ ("; its features will be null" if not required else ""), info=true) }}
        {%- if required -%}
            {%- do shop_check_some_customers(input_path, label) -%}
        {%- endif -%}
    {%- endif -%}
    {{ return(shop_conformed_relation(reader, label, table_name, columns, found_columns, true)) }}
{% endmacro %}


{#- The file of an input table: <table>.parquet, else <table>.csv, else none. -#}
{% macro shop_input_file(input_path, table_name) %}
    {%- set base = shop_escape_string(input_path.rstrip('/') ~ '/' ~ table_name) -%}
    {%- set found = run_query(
        "select file from glob('" ~ base ~ ".parquet') "
        ~ "union all select file from glob('" ~ base ~ ".csv') "
        ~ "order by file desc"
    ) -%}
    {%- set files = found.columns[0].values() | list -%}
    {{ return(files[0] if files else none) }}
{% endmacro %}


{% macro shop_file_reader(file) %}
    {%- set escaped = shop_escape_string(file) -%}
    {%- if file.endswith('.parquet') -%}
        {{ return("read_parquet('" ~ escaped ~ "')") }}
    {%- endif -%}
    {{ return(shop_csv_reader(escaped)) }}
{% endmacro %}


{% macro shop_file_has_rows(file) %}
    {%- set probe = 'select count(*) from (select 1 from ' ~ shop_file_reader(file)
        ~ ' limit 1) as probe' -%}
    {{ return(run_query(probe).rows[0][0] > 0) }}
{% endmacro %}


{#- An empty orders table is fine while customers or events name someone; else stop. -#}
{% macro shop_check_some_customers(input_path, orders_label) %}
    {%- for table_name in ['customers', 'events'] -%}
        {%- if var('shop_using_' ~ table_name, true) -%}
            {%- set file = shop_input_file(input_path, table_name) -%}
            {%- if file is not none and shop_file_has_rows(file) -%}
                {{ return(none) }}
            {%- endif -%}
        {%- endif -%}
    {%- endfor -%}
    {{ exceptions.raise_compiler_error(
        "shopseg: no customers in input: " ~ orders_label ~ " has no rows and there is no "
        ~ "customers or events table with rows (shop_input_path = '" ~ input_path ~ "')") }}
{% endmacro %}


{#- read_csv with the delimiter detected and the encoding of the var shop_csv_encoding. -#}
{% macro shop_csv_reader(file, probe=false) %}
    {{ return("read_csv('" ~ file ~ "', header = true, auto_detect = true, sample_size = -1, "
        ~ "encoding = '" ~ shop_csv_encoding() ~ "'" ~ (probe or '') ~ ")") }}
{% endmacro %}


{% macro shop_csv_encoding() %}
    {%- set encoding = var('shop_csv_encoding', 'utf-8') | string | trim | lower -%}
    {%- set supported = ['utf-8', 'utf-16', 'latin-1'] -%}
    {%- if encoding not in supported -%}
        {{ exceptions.raise_compiler_error(
            "shopseg: var shop_csv_encoding = '" ~ encoding ~ "' is not supported (one of "
            ~ supported | join(', ') ~ ")") }}
    {%- endif -%}
    {{ return(encoding) }}
{% endmacro %}


{#-
    A CSV that is not in the expected encoding stops the build with its first bad line.
    Latin-1 decodes any byte, so only utf-8 and utf-16 are checked (one extra scan).
-#}
{% macro shop_check_csv_encoding(file, label, table_name) %}
    {%- if shop_csv_encoding() == 'latin-1' -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set file = shop_escape_string(file) -%}
    {%- set rejects = 'shopseg_rejects_' ~ table_name -%}
    {%- set probe = ", store_rejects = true, rejects_table = '" ~ rejects
        ~ "', rejects_scan = '" ~ rejects ~ "_scan'" -%}
    {#- every column is read (count(*) alone decodes nothing); bad lines go to `rejects` -#}
    {%- do run_query('select count(columns(*)) from ' ~ shop_csv_reader(file, probe)) -%}
    {%- set bad = run_query(
        "select line, column_name, csv_line from " ~ rejects
        ~ " where error_type = 'INVALID ENCODING' order by line limit 1") -%}
    {%- if bad.rows | length > 0 -%}
        {%- set line, column, text = bad.rows[0] -%}
        {{ exceptions.raise_compiler_error(
            "shopseg: input " ~ label ~ ": line " ~ line ~ ", column " ~ column ~ " is not "
            ~ shop_csv_encoding() ~ " text ('" ~ text[:60] ~ "'): save the file as "
            ~ shop_csv_encoding() ~ " or set the var shop_csv_encoding (utf-8, utf-16, latin-1)") }}
    {%- endif -%}
{% endmacro %}


{#-
    The input relation conformed to the contract: exactly its columns, in its order, by
    name (case and surrounding spaces ignored); a missing required column is an error, a
    missing optional one is null. `found` lists the input's (name, type) pairs.
-#}
{% macro shop_conformed_relation(reader, label, table_name, columns, found, check_values) %}
    {%- set required_columns = shop_required_columns(table_name) -%}
    {%- set by_name = {} -%}
    {%- for name, data_type in found -%}
        {%- set key = name | trim | lower -%}
        {%- if key not in by_name -%}
            {%- do by_name.update({key: (name, data_type)}) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set selects = [] -%}
    {%- for column, contract_type in columns.items() -%}
        {%- if column in by_name -%}
            {%- set quoted = adapter.quote(by_name[column][0]) -%}
            {%- if check_values -%}
                {%- do shop_check_values(
                    reader, label, column, quoted, by_name[column][1], contract_type) -%}
            {%- endif -%}
            {%- do selects.append(quoted ~ ' as ' ~ column) -%}
        {%- elif column in required_columns -%}
            {{ exceptions.raise_compiler_error(
                "shopseg: input " ~ label ~ ": required column " ~ column ~ " is missing "
                ~ "(columns found: " ~ (found | map('first') | join(', ') or 'none') ~ ")") }}
        {%- else -%}
            {{ log("shopseg: input " ~ label ~ ": optional column " ~ column
                ~ " is absent and read as null", info=true) }}
            {%- do selects.append('cast(null as ' ~ contract_type ~ ') as ' ~ column) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return('(select ' ~ selects | join(', ') ~ ' from ' ~ reader ~ ') as shop_' ~ table_name) }}
{% endmacro %}


{#-
    A number or timestamp column stored as something else (text, say) must parse in at
    least one row: otherwise the file has the wrong column or format and the build stops.
    Rows that do not parse are read as null and counted in data_quality_issues.
-#}
{% macro shop_check_values(reader, label, column, quoted, data_type, contract_type) %}
    {%- set kind = shop_contract_kind(contract_type) -%}
    {%- set found_type = data_type | upper -%}
    {%- set numeric_types = [
        'TINYINT', 'SMALLINT', 'INTEGER', 'BIGINT', 'HUGEINT', 'UTINYINT', 'USMALLINT',
        'UINTEGER', 'UBIGINT', 'UHUGEINT', 'FLOAT', 'DOUBLE', 'INT',
    ] -%}
    {%- if kind == 'text'
        or (kind == 'number' and (found_type in numeric_types
            or found_type.startswith('DECIMAL')))
        or (kind == 'timestamp' and (found_type.startswith('TIMESTAMP')
            or found_type == 'DATE')) -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set parsed = shop_safe_cast(quoted, contract_type) -%}
    {%- set counts = run_query(
        "select count(" ~ quoted ~ "), count(" ~ parsed ~ "), min(case when " ~ parsed
        ~ " is null then cast(" ~ quoted ~ " as " ~ dbt.type_string() ~ ") end) from "
        ~ reader) -%}
    {%- set values, parsed_values, example = counts.rows[0] -%}
    {%- set what = {'number': 'a number', 'timestamp': 'a timestamp'}[kind] -%}
    {%- set expected = {'number': '', 'timestamp': '; expected YYYY-MM-DD HH:MM:SS'}[kind] -%}
    {%- if values > 0 and parsed_values == 0 -%}
        {{ exceptions.raise_compiler_error(
            "shopseg: input " ~ label ~ ": column " ~ column ~ " is not " ~ what
            ~ " in any of its " ~ values ~ " rows (type " ~ found_type ~ ", e.g. '"
            ~ example[:40] ~ "'" ~ expected ~ ")") }}
    {%- endif -%}
    {%- if parsed_values < values -%}
        {{ log("shopseg: input " ~ label ~ ": column " ~ column ~ ": "
            ~ (values - parsed_values) ~ " of " ~ values ~ " values are not " ~ what
            ~ " (e.g. '" ~ example[:40] ~ "'); read as null, counted in data_quality_issues",
            info=true) }}
    {%- endif -%}
{% endmacro %}


{% macro shop_escape_string(value) %}
    {{ return(value | replace("'", "''")) }}
{% endmacro %}
