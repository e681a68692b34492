{#-
    shop_source(table_name, columns): the relation to read one input table from.

    * On DuckDB with `shop_input_path` set, the table is a file in that folder:
      `<table>.parquet` is preferred, `<table>.csv` is read otherwise.
    * Otherwise it is the dbt source `shop.<table>` (database/schema from the
      `shop_database` / `shop_schema` vars, Fivetran style).
    * An optional table that is switched off (`shop_using_<table>: false`) or, on files,
      absent, becomes an empty relation with the contract's columns, so the features
      that need it come out null and the segmenter leaves them out.

    `columns` is the contract: {column name: type}, used for the empty relation.
-#}
{% macro shop_source(table_name, columns, required=false) %}
    {%- set src = source('shop', table_name) -%}
    {%- set enabled = required or var('shop_using_' ~ table_name, true) -%}
    {%- if not enabled -%}
        {{ return(shop_empty_relation(columns)) }}
    {%- endif -%}
    {%- set input_path = var('shop_input_path', none) -%}
    {#- The lint target (sqlfluff) compiles against the source, never the files. -#}
    {%- if target.type == 'duckdb' and input_path and target.name != 'lint' -%}
        {{ return(shop_file_relation(input_path, table_name, columns, required)) }}
    {%- endif -%}
    {{ return(src) }}
{% endmacro %}


{% macro shop_empty_relation(columns) %}
    {%- set cols = [] -%}
    {%- for name, data_type in columns.items() -%}
        {%- do cols.append('cast(null as ' ~ data_type ~ ') as ' ~ name) -%}
    {%- endfor -%}
    {{ return('(select ' ~ cols | join(', ') ~ ' where 1 = 0) as shop_empty') }}
{% endmacro %}


{% macro shop_file_relation(input_path, table_name, columns, required) %}
    {%- set base = input_path.rstrip('/') ~ '/' ~ table_name -%}
    {%- if not execute -%}
        {{ return("read_parquet('" ~ base ~ ".parquet')") }}
    {%- endif -%}
    {%- set found = run_query(
        "select file from glob('" ~ shop_escape_string(base) ~ ".parquet') "
        ~ "union all select file from glob('" ~ shop_escape_string(base) ~ ".csv') "
        ~ "order by file desc"
    ) -%}
    {%- set files = found.columns[0].values() | list -%}
    {%- if files | length == 0 -%}
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
    {%- set file = shop_escape_string(files[0]) -%}
    {%- if file.endswith('.parquet') -%}
        {{ return("read_parquet('" ~ file ~ "')") }}
    {%- endif -%}
    {{ return("read_csv('" ~ file ~ "', header = true, auto_detect = true, "
        ~ "sample_size = -1)") }}
{% endmacro %}


{% macro shop_escape_string(value) %}
    {{ return(value | replace("'", "''")) }}
{% endmacro %}
