{#-
    shop_source(table_name, required): the relation to read one input table from.

    * The var `shop_<table>_relation` (any adapter): a relation as a dbt user writes it,
      `"{{ ref('my_orders') }}"`, `"{{ source('raw', 'orders') }}"`, or a quoted table
      name. A ref or source there is rendered in the staging model, so the user's model
      is upstream of shopseg in the DAG.
    * Otherwise, on DuckDB, a file in the folder `shop_input_path` (null:
      $SHOPSEG_INPUT_PATH, else data/demo): `<table>.parquet` is preferred,
      `<table>.csv` is read otherwise (delimiter detected, encoding from the var
      `shop_csv_encoding`, default utf-8). The folder is listed literally: no glob.
    * Otherwise the dbt source `shopseg.<table>` (database/schema from the
      `shop_database` / `shop_schema` vars, Fivetran style); on Spark with
      `shop_input_path` set, the file `<table>.parquet` of that folder
      (shop_source_spark.sql).
    * An optional table that is switched off (`shop_using_<table>: false`) or absent
      becomes an empty relation with the contract's columns, so the features that need it
      come out null and the segmenter leaves them out.

    The input is checked against the contract (the `shopseg` source's YAML) before
    anything reads it, and a problem the build cannot repair stops it with one line naming
    the table, the column and the problem (`shopseg: input orders.parquet: required column
    order_total is missing ...`): required columns that are absent (all of them named), a
    number or timestamp column none of whose values parses, two columns whose names differ
    only in case, nested values, a CSV that is not in the expected encoding. An optional
    column that is absent is read as null; column names match without regard to case or
    surrounding spaces. Timestamps with a time zone, and text with an ISO-8601 offset, are
    converted to UTC; timestamps without one are taken as UTC.

    The relation returned has exactly the contract's columns, in its order.
-#}
{% macro shop_source(table_name, required=false) %}
    {%- set var_name = 'shop_' ~ table_name ~ '_relation' -%}
    {%- set relation = var(var_name, none) -%}
    {%- set relation = (relation | string | trim) if relation is not none else '' -%}
    {%- set enabled = required or var('shop_using_' ~ table_name, true) -%}
    {%- if not enabled -%}
        {{ return(shop_empty_relation(table_name)) }}
    {%- endif -%}
    {%- if relation | length > 0 -%}
        {%- if not execute or target.name == 'lint' -%}
            {{ return(relation) }}
        {%- endif -%}
        {{ return(shop_relation_input(relation, var_name, table_name, required)) }}
    {%- endif -%}
    {%- set src = source('shopseg', table_name) -%}
    {#- The lint target (sqlfluff) compiles against the source, never the files. -#}
    {%- if target.name == 'lint' or not execute -%}
        {{ return(src) }}
    {%- endif -%}
    {%- if target.type == 'duckdb' -%}
        {{ return(shop_file_relation(shop_input_path(), table_name, required)) }}
    {%- endif -%}
    {%- if target.type in ('spark', 'databricks') and var('shop_input_path', none) -%}
        {{ return(shop_spark_file_relation(var('shop_input_path'), table_name, required)) }}
    {%- endif -%}
    {{ return(shop_warehouse_relation(src, table_name, required)) }}
{% endmacro %}


{#- The input folder on DuckDB: the var shop_input_path, else $SHOPSEG_INPUT_PATH, else data/demo. -#}
{% macro shop_input_path() %}
    {{ return(var('shop_input_path', none) or env_var('SHOPSEG_INPUT_PATH', 'data/demo')) }}
{% endmacro %}


{% macro shop_empty_relation(table_name) %}
    {%- if not execute -%}
        {{ return('(select 1 as placeholder) as shop_empty') }}
    {%- endif -%}
    {%- set cols = [] -%}
    {%- for column in shop_contract(table_name) -%}
        {%- do cols.append('cast(null as ' ~ column.type ~ ') as ' ~ column.name) -%}
    {%- endfor -%}
    {{ return('(select ' ~ cols | join(', ') ~ ' where 1 = 0) as shop_empty') }}
{% endmacro %}


{#- A relation named by the var shop_<table>_relation: checked like a file. -#}
{% macro shop_relation_input(relation, var_name, table_name, required) %}
    {%- set label = table_name ~ ' (' ~ var_name ~ ' = ' ~ relation ~ ')' -%}
    {%- set found = shop_relation_columns(relation) -%}
    {%- set check_values = target.type in ('duckdb', 'spark', 'databricks') -%}
    {%- if required and not shop_has_rows(relation) -%}
        {{ log("shopseg: input " ~ label ~ " has no rows", info=true) }}
        {%- do shop_check_some_customers(label) -%}
    {%- endif -%}
    {{ return(shop_conformed_relation(relation, label, table_name, found, check_values)) }}
{% endmacro %}


{#- (name, type) of every column of a relation or subquery; type 'unknown' where the adapter cannot say. -#}
{% macro shop_relation_columns(relation) %}
    {{ return(adapter.dispatch('shop_relation_columns', 'shopseg')(relation)) }}
{% endmacro %}
{% macro default__shop_relation_columns(relation) %}
    {%- set found = [] -%}
    {%- for name in get_columns_in_query('select * from ' ~ relation) -%}
        {%- do found.append((name, 'unknown')) -%}
    {%- endfor -%}
    {{ return(found) }}
{% endmacro %}
{% macro duckdb__shop_relation_columns(relation) %}
    {%- set found = [] -%}
    {%- for row in run_query('describe select * from ' ~ relation).rows -%}
        {%- do found.append((row[0], row[1])) -%}
    {%- endfor -%}
    {{ return(found) }}
{% endmacro %}
{% macro spark__shop_relation_columns(relation) %}
    {%- set found = [] -%}
    {%- for row in run_query('describe query select * from ' ~ relation).rows -%}
        {%- if not row[0].startswith('#') -%}
            {%- do found.append((row[0], row[1])) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(found) }}
{% endmacro %}


{#- A table of the warehouse (any adapter): checked for its columns, not its values. -#}
{% macro shop_warehouse_relation(src, table_name, required) %}
    {%- set found = [] -%}
    {%- for column in adapter.get_columns_in_relation(src) -%}
        {%- do found.append((column.name, column.data_type)) -%}
    {%- endfor -%}
    {%- if found | length == 0 -%}
        {%- if required -%}
            {{ exceptions.raise_compiler_error(
                "shopseg: input table " ~ src ~ " not found: load it, set the vars "
                ~ "shop_database / shop_schema, or name a relation with shop_"
                ~ table_name ~ "_relation") }}
        {%- endif -%}
        {{ log("shopseg: optional input table " ~ src ~ " not found; its features will be null",
            info=true) }}
        {{ return(shop_empty_relation(table_name)) }}
    {%- endif -%}
    {{ return(shop_conformed_relation(src, src, table_name, found, false)) }}
{% endmacro %}


{% macro shop_file_relation(input_path, table_name, required) %}
    {%- set file = shop_input_file(input_path, table_name, required) -%}
    {%- if file is none -%}
        {%- if required -%}
            {%- set base = input_path.rstrip('/') ~ '/' ~ table_name -%}
            {{ exceptions.raise_compiler_error(
                "shopseg: input table '" ~ table_name ~ "' not found: expected "
                ~ base ~ ".parquet or " ~ base ~ ".csv (shop_input_path = '" ~ input_path ~ "')"
            ) }}
        {%- endif -%}
        {{ log("shopseg: optional input table '" ~ table_name ~ "' not found in "
            ~ input_path ~ "; its features will be null", info=true) }}
        {{ return(shop_empty_relation(table_name)) }}
    {%- endif -%}
    {%- set label = file.split('/')[-1] -%}
    {%- if shop_is_csv(file) -%}
        {%- do shop_check_csv_encoding(file, label, table_name) -%}
    {%- endif -%}
    {%- set reader = shop_file_reader(file) -%}
    {%- set found = shop_relation_columns(reader) -%}
    {%- if not shop_has_rows(reader) -%}
        {{ log("shopseg: input " ~ label ~ " has no rows"
            ~ ("; its features will be null" if not required else ""), info=true) }}
        {%- if required -%}
            {%- do shop_check_some_customers(label) -%}
        {%- endif -%}
    {%- endif -%}
    {{ return(shop_conformed_relation(reader, label, table_name, found, true)) }}
{% endmacro %}


{% macro shop_is_csv(file) %}
    {{ return(file.lower().endswith('.csv')) }}
{% endmacro %}


{#-
    The file of an input table in the folder: <table>.parquet, else <table>.csv, else
    none. Names match without regard to case (customers.PARQUET is read, with a log line);
    when both a Parquet and a CSV file are there, the Parquet one is read and a log line
    says so; two files of one table whose names differ only in case stop the build. The
    folder is listed literally (the plugin's shopseg_input_files; without the plugin,
    DuckDB's glob() with its pattern characters escaped), so `[1]` in a path is not a
    pattern. An empty or truncated Parquet file stops the build with one line.
-#}
{% macro shop_input_file(input_path, table_name, required) %}
    {%- set folder = input_path.rstrip('/') -%}
    {%- set listing = shop_list_folder(folder) -%}
    {%- if listing is none -%}
        {%- if required -%}
            {{ exceptions.raise_compiler_error(
                "shopseg: input folder '" ~ folder ~ "' does not exist (shop_input_path or "
                ~ "SHOPSEG_INPUT_PATH)") }}
        {%- endif -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set matches = {'parquet': [], 'csv': []} -%}
    {%- for entry in listing -%}
        {%- for ext in ['parquet', 'csv'] -%}
            {%- if entry.name.lower() == table_name ~ '.' ~ ext -%}
                {%- do matches[ext].append(entry) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- for ext in ['parquet', 'csv'] -%}
        {%- if matches[ext] | length > 1 -%}
            {{ exceptions.raise_compiler_error(
                "shopseg: input folder '" ~ folder ~ "' has " ~ matches[ext] | length
                ~ " files for table " ~ table_name ~ " (" ~ matches[ext] | map(attribute='name')
                | join(', ') ~ "): keep one") }}
        {%- endif -%}
    {%- endfor -%}
    {%- set chosen = (matches['parquet'] + matches['csv'])[0] if (matches['parquet']
        + matches['csv']) else none -%}
    {%- if chosen is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- if matches['parquet'] and matches['csv'] -%}
        {{ log("shopseg: input folder has both " ~ matches['parquet'][0].name ~ " and "
            ~ matches['csv'][0].name ~ ": reading " ~ chosen.name ~ ", ignoring the CSV",
            info=true) }}
    {%- endif -%}
    {%- if chosen.name != chosen.name.lower() -%}
        {{ log("shopseg: reading " ~ chosen.name ~ " as the " ~ table_name ~ " table", info=true) }}
    {%- endif -%}
    {%- if not shop_is_csv(chosen.name) and chosen.get('size') is not none -%}
        {%- if chosen.size == 0 -%}
            {{ exceptions.raise_compiler_error(
                "shopseg: input " ~ chosen.name ~ ": the file is empty (0 bytes): write the "
                ~ "table again or remove the file") }}
        {%- elif not chosen.parquet_ok -%}
            {{ exceptions.raise_compiler_error(
                "shopseg: input " ~ chosen.name ~ ": not a Parquet file or truncated ("
                ~ chosen.size ~ " bytes, no PAR1 marker at its start and end): write the "
                ~ "table again") }}
        {%- endif -%}
    {%- endif -%}
    {{ return(chosen.path) }}
{% endmacro %}


{#- The files of a folder as [{name, path, size?, parquet_ok?}], none when it does not exist. -#}
{% macro shop_list_folder(folder) %}
    {%- set escaped = shop_escape_string(folder) -%}
    {%- set has_plugin = run_query(
        "select count(*) from duckdb_functions() where function_name = 'shopseg_input_files'"
    ).rows[0][0] > 0 -%}
    {%- if has_plugin -%}
        {%- set listed = run_query("select shopseg_input_files('" ~ escaped ~ "')").rows[0][0] -%}
        {{ return(none if listed is none else fromjson(listed)) }}
    {%- endif -%}
    {%- set pattern = shop_escape_string(shop_escape_glob(folder) ~ '/*') -%}
    {%- set files = run_query("select file from glob('" ~ pattern ~ "') order by file").columns[0].values() -%}
    {%- set listing = [] -%}
    {%- for file in files -%}
        {%- do listing.append({'name': file.split('/')[-1], 'path': file}) -%}
    {%- endfor -%}
    {{ return(listing if listing else none) }}
{% endmacro %}


{#- A literal path as a DuckDB glob pattern that matches only itself. -#}
{% macro shop_escape_glob(path) %}
    {{ return(path | replace('[', '[[]') | replace('*', '[*]') | replace('?', '[?]')) }}
{% endmacro %}


{#- DuckDB's readers expand glob patterns: the path is escaped so that it names one file. -#}
{% macro shop_file_reader(file) %}
    {%- set escaped = shop_escape_string(shop_escape_glob(file)) -%}
    {%- if not shop_is_csv(file) -%}
        {{ return("read_parquet('" ~ escaped ~ "')") }}
    {%- endif -%}
    {{ return(shop_csv_reader(escaped)) }}
{% endmacro %}


{% macro shop_has_rows(relation) %}
    {%- set probe = 'select count(*) from (select 1 from ' ~ relation
        ~ ' limit 1) as probe' -%}
    {{ return(run_query(probe).rows[0][0] > 0) }}
{% endmacro %}


{#- The relation of an optional table with rows, for the empty-orders check; else none. -#}
{% macro shop_peek_relation(table_name) %}
    {%- if not var('shop_using_' ~ table_name, true) -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set relation = var('shop_' ~ table_name ~ '_relation', none) -%}
    {%- if relation is not none and (relation | string | trim) | length > 0 -%}
        {{ return(relation | string | trim) }}
    {%- endif -%}
    {%- if target.type == 'duckdb' -%}
        {%- set file = shop_input_file(shop_input_path(), table_name, false) -%}
        {{ return(shop_file_reader(file) if file is not none else none) }}
    {%- endif -%}
    {%- set src = source('shopseg', table_name) -%}
    {{ return(src if adapter.get_columns_in_relation(src) | length > 0 else none) }}
{% endmacro %}


{#- An empty orders table is fine while customers or events name someone; else stop. -#}
{% macro shop_check_some_customers(orders_label) %}
    {%- for table_name in ['customers', 'events'] -%}
        {%- set relation = shop_peek_relation(table_name) -%}
        {%- if relation is not none and shop_has_rows(relation) -%}
            {{ return(none) }}
        {%- endif -%}
    {%- endfor -%}
    {{ exceptions.raise_compiler_error(
        "shopseg: no customers in input: " ~ orders_label ~ " has no rows and there is no "
        ~ "customers or events table with rows"
        ~ (" (shop_input_path = '" ~ shop_input_path() ~ "')" if target.type == 'duckdb' else "")) }}
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
    {%- set file = shop_escape_string(shop_escape_glob(file)) -%}
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
    name (case and surrounding spaces ignored); missing required columns are an error
    (every one named), a missing optional one is null. `found` lists the input's
    (name, type) pairs.
-#}
{% macro shop_conformed_relation(reader, label, table_name, found, check_values) %}
    {%- set contract = shop_contract(table_name) -%}
    {%- set wanted = contract | map(attribute='name') | list -%}
    {%- set by_name = {} -%}
    {%- set lower_names = found | map('first') | map('trim') | map('lower') | list -%}
    {%- for name, data_type in found -%}
        {%- set key = name | trim | lower -%}
        {#- DuckDB reads a second column whose name differs only in case as <name>_1 -#}
        {%- set renamed = modules.re.match('^(.*)_[0-9]+$', name | trim) -%}
        {%- if renamed and renamed.group(1) | lower in wanted
            and renamed.group(1) | lower in lower_names -%}
            {{ exceptions.raise_compiler_error(
                "shopseg: input " ~ label ~ ": columns '" ~ found[lower_names.index(
                renamed.group(1) | lower)][0] ~ "' and '" ~ renamed.group(1) ~ "' both read as "
                ~ renamed.group(1) | lower ~ " (names are matched without regard to case): "
                ~ "rename or drop one") }}
        {%- endif -%}
        {%- if key in by_name and key in wanted -%}
            {{ exceptions.raise_compiler_error(
                "shopseg: input " ~ label ~ ": columns '" ~ by_name[key][0] ~ "' and '" ~ name
                ~ "' both read as " ~ key ~ " (names are matched without regard to case): "
                ~ "rename or drop one") }}
        {%- endif -%}
        {%- if key not in by_name -%}
            {%- do by_name.update({key: (name, data_type)}) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set missing = [] -%}
    {%- for column in contract -%}
        {%- if column.required and column.name not in by_name -%}
            {%- do missing.append(column.name) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if missing -%}
        {{ exceptions.raise_compiler_error(
            "shopseg: input " ~ label ~ ": required column" ~ ("s " if missing | length > 1 else " ")
            ~ missing | join(', ') ~ (" are" if missing | length > 1 else " is") ~ " missing "
            ~ "(columns found: " ~ (found | map('first') | join(', ') or 'none') ~ ")") }}
    {%- endif -%}
    {%- set selects = [] -%}
    {%- for column in contract -%}
        {%- if column.name in by_name -%}
            {%- set found_name, found_type = by_name[column.name] -%}
            {%- set quoted = adapter.quote(found_name) -%}
            {%- do shop_check_plain(label, column.name, found_type) -%}
            {%- set expression = shop_conform_expression(quoted, found_type, column.kind) -%}
            {%- if check_values -%}
                {%- do shop_check_values(
                    reader, label, column, quoted, expression, found_type) -%}
            {%- endif -%}
            {%- do selects.append(expression ~ ' as ' ~ column.name) -%}
        {%- else -%}
            {{ log("shopseg: input " ~ label ~ ": optional column " ~ column.name
                ~ " is absent and read as null", info=true) }}
            {%- do selects.append('cast(null as ' ~ column.type ~ ') as ' ~ column.name) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return('(select ' ~ selects | join(', ') ~ ' from ' ~ reader ~ ') as shop_' ~ table_name) }}
{% endmacro %}


{#- Lists, structs, maps and JSON cannot be ids, numbers or timestamps: refused. -#}
{% macro shop_check_plain(label, column, found_type) %}
    {%- set upper = found_type | upper -%}
    {%- if upper.endswith(']') or upper.startswith('STRUCT') or upper.startswith('MAP')
        or upper.startswith('LIST') or upper.startswith('ARRAY') or upper.startswith('UNION')
        or upper == 'JSON' -%}
        {{ exceptions.raise_compiler_error(
            "shopseg: input " ~ label ~ ": column " ~ column ~ " holds nested values (type "
            ~ found_type ~ "): give it plain values") }}
    {%- endif -%}
{% endmacro %}


{#-
    A column as the contract reads it. Timestamps: with a time zone, converted to UTC; text
    with an ISO-8601 offset (+05:00, +0500, Z, ' +01:00', UTC), converted to UTC; without
    one, taken as UTC. The conversion never depends on the session's or machine's time zone.
-#}
{% macro shop_conform_expression(quoted, found_type, kind) %}
    {%- if kind != 'timestamp' -%}
        {{ return(quoted) }}
    {%- endif -%}
    {%- set upper = found_type | upper -%}
    {%- if 'WITH TIME ZONE' in upper or upper.startswith('TIMESTAMPTZ') -%}
        {{ return(shop_timestamptz_to_utc(quoted)) }}
    {%- endif -%}
    {%- if shop_is_text_type(upper) -%}
        {{ return(shop_text_to_utc_timestamp(quoted)) }}
    {%- endif -%}
    {{ return(quoted) }}
{% endmacro %}


{% macro shop_is_text_type(upper_type) %}
    {{ return(upper_type in ('VARCHAR', 'TEXT', 'STRING', 'CHARACTER VARYING', 'CHAR', 'BPCHAR')
        or upper_type.startswith('VARCHAR(') or upper_type.startswith('CHARACTER VARYING(')) }}
{% endmacro %}


{% macro shop_timestamptz_to_utc(column) %}
    {{ return(adapter.dispatch('shop_timestamptz_to_utc', 'shopseg')(column)) }}
{% endmacro %}
{% macro default__shop_timestamptz_to_utc(column) %}
    {{ return('(' ~ column ~ " at time zone 'UTC')") }}
{% endmacro %}
{% macro duckdb__shop_timestamptz_to_utc(column) %}
    {{ return("timezone('UTC', " ~ column ~ ")") }}
{% endmacro %}
{#- Spark timestamps are instants shown in the session zone, pinned to UTC in the profile. -#}
{% macro spark__shop_timestamptz_to_utc(column) %}
    {{ return(column) }}
{% endmacro %}


{#- Text to a UTC timestamp: offsets applied, text without one taken as UTC, unreadable text null. -#}
{% macro shop_text_to_utc_timestamp(column) %}
    {{ return(adapter.dispatch('shop_text_to_utc_timestamp', 'shopseg')(column)) }}
{% endmacro %}
{% macro default__shop_text_to_utc_timestamp(column) %}
    {{ return(shop_safe_cast(column, dbt.type_timestamp())) }}
{% endmacro %}
{% macro duckdb__shop_text_to_utc_timestamp(column) %}
    {%- set text = "regexp_replace(trim(" ~ column ~ "), '\\s+(Z|UTC|[+-][0-9]{2}(:?[0-9]{2})?)$', '\\1')" -%}
    {%- set offset = "'[0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]+)?)?(Z|UTC|[+-][0-9]{2}(:?[0-9]{2})?)$'" -%}
    {{ return("(case when regexp_matches(" ~ text ~ ", " ~ offset ~ ") then timezone('UTC', try_cast("
        ~ text ~ " as timestamptz)) else try_cast(" ~ text ~ " as timestamp) end)") }}
{% endmacro %}


{#-
    A number or timestamp column stored as something else (text, say) must parse in at
    least one row: otherwise the file has the wrong column or format and the build stops.
    Rows that do not parse are read as null and counted in data_quality_issues.
-#}
{% macro shop_check_values(reader, label, column, quoted, expression, data_type) %}
    {%- set kind = column.kind -%}
    {%- set found_type = data_type | upper -%}
    {%- set numeric_types = [
        'TINYINT', 'SMALLINT', 'INTEGER', 'BIGINT', 'HUGEINT', 'UTINYINT', 'USMALLINT',
        'UINTEGER', 'UBIGINT', 'UHUGEINT', 'FLOAT', 'DOUBLE', 'INT', 'LONG', 'SHORT', 'BYTE',
    ] -%}
    {%- if kind == 'text'
        or (kind in ('number', 'integer') and (found_type in numeric_types
            or found_type.startswith('DECIMAL')))
        or (kind == 'timestamp' and (found_type.startswith('TIMESTAMP')
            or found_type == 'DATE')) -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set parsed = shop_safe_cast(expression, column.type) -%}
    {%- set counts = run_query(
        "select count(" ~ quoted ~ "), count(" ~ parsed ~ "), min(case when " ~ parsed
        ~ " is null then cast(" ~ quoted ~ " as " ~ dbt.type_string() ~ ") end) from "
        ~ reader) -%}
    {%- set values, parsed_values, example = counts.rows[0] -%}
    {%- set what = {'number': 'a number', 'integer': 'a number',
        'timestamp': 'a timestamp'}[kind] -%}
    {%- set expected = '; expected YYYY-MM-DD HH:MM:SS, optionally with an offset' if kind == 'timestamp' else '' -%}
    {%- if values > 0 and parsed_values == 0 -%}
        {{ exceptions.raise_compiler_error(
            "shopseg: input " ~ label ~ ": column " ~ column.name ~ " is not " ~ what
            ~ " in any of its " ~ values ~ " rows (type " ~ found_type ~ ", e.g. '"
            ~ example[:40] ~ "'" ~ expected ~ ")") }}
    {%- endif -%}
    {%- if parsed_values < values -%}
        {{ log("shopseg: input " ~ label ~ ": column " ~ column.name ~ ": "
            ~ (values - parsed_values) ~ " of " ~ values ~ " values are not " ~ what
            ~ " (e.g. '" ~ example[:40] ~ "'); read as null, counted in data_quality_issues",
            info=true) }}
    {%- endif -%}
{% endmacro %}


{% macro shop_escape_string(value) %}
    {{ return(value | replace("'", "''")) }}
{% endmacro %}
