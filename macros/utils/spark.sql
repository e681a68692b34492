{#-
    Spark fixes of dbt-spark's own macros. dbt dispatches its own macros (the `dbt`
    namespace) to the root project first, so these replace the adapter's versions.
-#}

{#-
    Seeds as SQL literals. dbt-spark's session method pastes seed values into the insert
    unescaped (`'Can't Lose'` breaks the statement) and sends nulls as the text 'None'.
    Spark string literals escape with a backslash.
-#}
{% macro spark__load_csv_rows(model, agate_table) %}
    {%- set column_override = model['config'].get('column_types', {}) -%}
    {%- set types = [] -%}
    {%- for col_name in agate_table.column_names -%}
        {%- do types.append(column_override.get(col_name, adapter.convert_type(agate_table, loop.index0))) -%}
    {%- endfor -%}
    {%- set statements = [] -%}
    {%- for chunk in agate_table.rows | batch(get_batch_size()) -%}
        {%- set values = [] -%}
        {%- for row in chunk -%}
            {%- set cells = [] -%}
            {%- for value in row -%}
                {%- if value is none -%}
                    {%- do cells.append('cast(null as ' ~ types[loop.index0] ~ ')') -%}
                {%- else -%}
                    {%- set text = (value | string) | replace('\\', '\\\\') | replace("'", "\\'") -%}
                    {%- do cells.append("cast('" ~ text ~ "' as " ~ types[loop.index0] ~ ')') -%}
                {%- endif -%}
            {%- endfor -%}
            {%- do values.append('(' ~ cells | join(', ') ~ ')') -%}
        {%- endfor -%}
        {%- set sql = 'insert into ' ~ this.render() ~ ' values ' ~ values | join(', ') -%}
        {%- do adapter.add_query(sql, abridge_sql_log=True) -%}
        {%- do statements.append(sql) -%}
    {%- endfor -%}
    {{ return(statements[0] if statements else '') }}
{% endmacro %}
